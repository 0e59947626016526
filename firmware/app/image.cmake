# The QEMU test images for one board, linked against the target iotx::coap,
# which the including project provides (add_subdirectory of the source
# tree, or find_package of an installed or unpacked archive). The test
# application (main.c), the HAL over the SLIP link (hal.c) and the stack
# figures (stack.c) are shared; the board layer (startup, UARTs, timer,
# linker script) is the machine's.
#   IOTX_FW_BOARD  the QEMU machine: mps2-an385 (Cortex-M3), mps2-an386
#                  (Cortex-M4F), mps2-an505 (Cortex-M33), microbit (nRF51,
#                  Cortex-M0), riscv-virt (rv32imac); its core must be the
#                  toolchain file's
#   FW_DEFINES     ;-list of main.c's build-time settings (NAME=VALUE)
#   fw                 the test application
#   fw-alloc-failure   the same, making the library's first allocation fail
set(IOTX_FW_BOARD "mps2-an386" CACHE STRING
    "QEMU machine of the image: mps2-an385, mps2-an386, mps2-an505, microbit, riscv-virt")
set(FW_DEFINES "" CACHE STRING "main.c settings, a ;-list of NAME=VALUE (URLs, token lifetime)")
get_filename_component(_fw_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(_app "${_fw_root}/app")
set(_boards "${_fw_root}/boards")

# Per board: sources, linker script, defines, heap arena and stack sizes.
set(_cm_sources "${_boards}/cortex-m/cortex_m.c")
set(_board_defs "")
if(IOTX_FW_BOARD MATCHES "^mps2-an38[56]$")
  set(_board_sources "${_boards}/mps2/board.c" ${_cm_sources})
  set(_ld "${_boards}/mps2/mps2-an38x.ld")
  set(_heap 16384)
  set(_stack 8192)
elseif(IOTX_FW_BOARD STREQUAL "mps2-an505")
  set(_board_sources "${_boards}/mps2/board.c" ${_cm_sources})
  set(_ld "${_boards}/mps2/mps2-an505.ld")
  set(_board_defs MPS2_AN505)
  set(_heap 16384)
  set(_stack 8192)
elseif(IOTX_FW_BOARD STREQUAL "microbit")
  # 16 KB of RAM in all: static data, this arena and this stack.
  set(_board_sources "${_boards}/microbit/board.c" ${_cm_sources})
  set(_ld "${_boards}/microbit/nrf51.ld")
  set(_heap 9216)
  set(_stack 4096)
elseif(IOTX_FW_BOARD STREQUAL "riscv-virt")
  set(_board_sources "${_boards}/riscv-virt/board.c")
  set(_ld "${_boards}/riscv-virt/virt.ld")
  set(_heap 16384)
  set(_stack 8192)
else()
  message(FATAL_ERROR "IOTX_FW_BOARD: no board '${IOTX_FW_BOARD}' (mps2-an385, mps2-an386, mps2-an505, microbit, riscv-virt)")
endif()
message(STATUS "firmware: board ${IOTX_FW_BOARD}, heap arena ${_heap} B, stack ${_stack} B")

foreach(_image IN ITEMS fw fw-alloc-failure)
  add_executable(${_image} "${_app}/main.c" "${_app}/hal.c" "${_app}/stack.c" "${_app}/semihost.c" ${_board_sources})
  set_target_properties(${_image} PROPERTIES SUFFIX ".elf" C_STANDARD 99 C_STANDARD_REQUIRED ON)
  target_include_directories(${_image} PRIVATE "${_app}" "${_boards}/cortex-m")
  target_compile_options(${_image} PRIVATE -Os -g -ffreestanding -Wall -Wextra -Werror)
  target_compile_definitions(${_image} PRIVATE ${FW_DEFINES} ${_board_defs}
    "FW_BOARD_NAME=\"${IOTX_FW_BOARD}\"" HEAP_ARENA_SIZE=${_heap}u)
  target_link_options(${_image} PRIVATE
    -nostartfiles "-T${_ld}" "-L${_boards}/cortex-m" -Wl,--defsym=STACK_SIZE=${_stack}
    "-Wl,-Map=$<TARGET_FILE_DIR:${_image}>/${_image}.map")
  if(CMAKE_C_COMPILER MATCHES "arm-none-eabi")
    target_link_options(${_image} PRIVATE -Wl,--no-warn-rwx-segments -Wl,--no-warn-execstack)
  endif()
  set_property(TARGET ${_image} APPEND PROPERTY LINK_DEPENDS "${_ld}")
  target_link_libraries(${_image} PRIVATE iotx::coap)
endforeach()
target_compile_definitions(fw-alloc-failure PRIVATE QEMU_TEST_ALLOC_FAILURE)
