# The mps2-an386 test images, linked against the target iotx::coap, which
# the including project provides (add_subdirectory of the source tree, or
# find_package of an installed or unpacked archive).
#   FW_DEFINES  ;-list of main.c's build-time settings (NAME=VALUE)
#   fw                 the test application
#   fw-alloc-failure   the same, making the library's first allocation fail
set(FW_DEFINES "" CACHE STRING "main.c settings, a ;-list of NAME=VALUE (URLs, token lifetime)")
set(_fw_dir "${CMAKE_CURRENT_LIST_DIR}")

foreach(_image IN ITEMS fw fw-alloc-failure)
  add_executable(${_image} "${_fw_dir}/board.c" "${_fw_dir}/hal_mps2.c" "${_fw_dir}/main.c")
  set_target_properties(${_image} PROPERTIES SUFFIX ".elf" C_STANDARD 99 C_STANDARD_REQUIRED ON)
  target_compile_options(${_image} PRIVATE -Os -g -ffreestanding -Wall -Wextra -Werror)
  target_compile_definitions(${_image} PRIVATE ${FW_DEFINES})
  target_link_options(${_image} PRIVATE
    -nostartfiles "-T${_fw_dir}/mps2-an386.ld" -Wl,--defsym=STACK_SIZE=8192
    -Wl,--no-warn-rwx-segments -Wl,--no-warn-execstack
    "-Wl,-Map=$<TARGET_FILE_DIR:${_image}>/${_image}.map")
  set_property(TARGET ${_image} APPEND PROPERTY LINK_DEPENDS "${_fw_dir}/mps2-an386.ld")
  target_link_libraries(${_image} PRIVATE iotx::coap)
endforeach()
target_compile_definitions(fw-alloc-failure PRIVATE QEMU_TEST_ALLOC_FAILURE)
