# Which Rust target a CMake build is for, and how cargo builds for it.
#
#   iotx_rust_target(<triple-var> <why-var>)
#     The Rust target triple for the C toolchain CMake was given: empty for
#     a native build (cargo's host), else mapped from CMAKE_SYSTEM_NAME,
#     CMAKE_SYSTEM_PROCESSOR and the -mcpu/-march/-mfloat-abi of the
#     toolchain's C flags. IOTX_COAP_RUST_TARGET, when set, wins.
#
#   iotx_rust_route(<triple> <rustc-var> <cargo-var> <build-std-var> <why-var>)
#     The rustc and cargo to use for <triple>, and whether `core`/`alloc`
#     must be built from source (-Zbuild-std) because that compiler has no
#     standard library installed for the target. Prefers a compiler that
#     has it (the stable route, no -Z flag), then one with the standard
#     library's sources (rustup's rust-src, or Debian's rust-web-src beside
#     /usr/bin/rustc).

include_guard(GLOBAL)

# The C flags a toolchain file sets, in any of the variables it may use.
function(_iotx_toolchain_c_flags out_var)
  string(TOUPPER "${CMAKE_BUILD_TYPE}" _cfg)
  set(${out_var}
      "${CMAKE_C_FLAGS} ${CMAKE_C_FLAGS_INIT} ${CMAKE_C_FLAGS_${_cfg}} ${CMAKE_C_COMPILER_ARG1} ${CMAKE_SYSTEM_PROCESSOR}"
      PARENT_SCOPE)
endfunction()

function(_iotx_flag_value flags name out_var)
  if(flags MATCHES "(^|[ \t;])-${name}=([^ \t;]+)")
    set(${out_var} "${CMAKE_MATCH_2}" PARENT_SCOPE)
  else()
    set(${out_var} "" PARENT_SCOPE)
  endif()
endfunction()

# Cortex-M and RISC-V (bare metal): the triple for a -mcpu / -march and
# float ABI.
function(_iotx_bare_metal_triple flags out_var)
  _iotx_flag_value("${flags}" mcpu _cpu)
  _iotx_flag_value("${flags}" march _arch)
  _iotx_flag_value("${flags}" mfloat-abi _fabi)
  string(TOLOWER "${_cpu}" _cpu)
  string(TOLOWER "${_arch}" _arch)
  if(NOT _cpu AND CMAKE_SYSTEM_PROCESSOR MATCHES "^(cortex-m[0-9a-z+]*)$")
    string(TOLOWER "${CMAKE_MATCH_1}" _cpu)
  endif()
  # "cortex-m4f" is no GCC name, but vendors' toolchain files use it as the
  # processor for a Cortex-M4 with its FPU.
  if(_cpu MATCHES "f$" AND _cpu MATCHES "^cortex-m")
    string(REGEX REPLACE "f$" "" _cpu "${_cpu}")
    if(NOT _fabi)
      set(_fabi hard)
    endif()
  endif()
  string(REGEX REPLACE "\\+.*$" "" _cpu "${_cpu}")
  set(_hf "")
  if(_fabi STREQUAL "hard")
    set(_hf "hf")
  endif()
  set(_t "")
  if(_cpu MATCHES "^cortex-m(0|0plus|1)$")
    set(_t thumbv6m-none-eabi)
  elseif(_cpu STREQUAL "cortex-m3")
    set(_t thumbv7m-none-eabi)
  elseif(_cpu MATCHES "^cortex-m(4|7)$")
    set(_t thumbv7em-none-eabi${_hf})
  elseif(_cpu MATCHES "^cortex-m(33|35p|55|85)$")
    set(_t thumbv8m.main-none-eabi${_hf})
  elseif(_cpu STREQUAL "cortex-m23")
    set(_t thumbv8m.base-none-eabi)
  elseif(_arch MATCHES "^rv32")
    # Extensions in GCC's canonical order; Rust names the common sets.
    string(REGEX REPLACE "_.*$" "" _isa "${_arch}")
    if(_isa MATCHES "^rv32(i|e)(m?)(a?)(f?)(d?)(c?)")
      set(_base "${CMAKE_MATCH_1}${CMAKE_MATCH_2}${CMAKE_MATCH_3}${CMAKE_MATCH_4}${CMAKE_MATCH_5}${CMAKE_MATCH_6}")
      if(_base MATCHES "^(i|im|imc|imac|imafc)$")
        set(_t riscv32${_base}-unknown-none-elf)
      elseif(_base STREQUAL "ima")
        set(_t riscv32ima-unknown-none-elf)
      elseif(_base STREQUAL "imafdc" OR _base STREQUAL "imfc")
        set(_t riscv32imafc-unknown-none-elf)
      endif()
    endif()
  endif()
  set(${out_var} "${_t}" PARENT_SCOPE)
endfunction()

function(iotx_rust_target triple_var why_var)
  if(IOTX_COAP_RUST_TARGET)
    set(${triple_var} "${IOTX_COAP_RUST_TARGET}" PARENT_SCOPE)
    set(${why_var} "IOTX_COAP_RUST_TARGET" PARENT_SCOPE)
    return()
  endif()
  if(NOT CMAKE_CROSSCOMPILING)
    set(${triple_var} "" PARENT_SCOPE)
    set(${why_var} "native build: cargo's host" PARENT_SCOPE)
    return()
  endif()
  _iotx_toolchain_c_flags(_flags)
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    set(_p "${CMAKE_SYSTEM_PROCESSOR}")
    if(_p MATCHES "^(aarch64|arm64)$")
      set(_t aarch64-unknown-linux-gnu)
    elseif(_p MATCHES "^armv7")
      set(_t armv7-unknown-linux-gnueabihf)
    elseif(_p MATCHES "^(x86_64|amd64)$")
      set(_t x86_64-unknown-linux-gnu)
    elseif(_p MATCHES "^riscv64")
      set(_t riscv64gc-unknown-linux-gnu)
    else()
      set(_t "")
    endif()
    set(_why "CMAKE_SYSTEM_PROCESSOR ${_p} on Linux")
  else()
    _iotx_bare_metal_triple("${_flags}" _t)
    string(REGEX MATCHALL "-m(cpu|arch|float-abi)=[^ \t;]+" _seen "${_flags}")
    list(REMOVE_DUPLICATES _seen)
    string(REPLACE ";" " " _seen "${_seen}")
    set(_why "${CMAKE_SYSTEM_NAME}, ${CMAKE_SYSTEM_PROCESSOR}: ${_seen}")
  endif()
  if(NOT _t)
    message(FATAL_ERROR
      "iotx-coap: no Rust target known for this toolchain (${_why}); "
      "set IOTX_COAP_RUST_TARGET to the Rust triple of your core")
  endif()
  set(${triple_var} "${_t}" PARENT_SCOPE)
  set(${why_var} "${_why}" PARENT_SCOPE)
endfunction()

# iotx_rust_route's results, set in its caller's scope (a macro, so
# PARENT_SCOPE is that of the function it runs in).
macro(_iotx_route_found rustc build_std why)
  set(${rustc_var} "${rustc}" PARENT_SCOPE)
  set(${build_std_var} ${build_std} PARENT_SCOPE)
  set(${why_var} "${why}" PARENT_SCOPE)
  _iotx_cargo_beside("${rustc}" _cargo)
  set(${cargo_var} "${_cargo}" PARENT_SCOPE)
endmacro()

function(iotx_rust_route triple rustc_var cargo_var build_std_var why_var)
  set(_candidates "")
  if(IOTX_RUSTC_EXECUTABLE)
    list(APPEND _candidates "${IOTX_RUSTC_EXECUTABLE}")
  endif()
  # Debian's rustc-web (with rust-web-src) builds core for any target.
  if(EXISTS /usr/bin/rustc)
    list(APPEND _candidates /usr/bin/rustc)
  endif()
  list(REMOVE_DUPLICATES _candidates)
  set(_with_src "")
  foreach(_rustc IN LISTS _candidates)
    execute_process(COMMAND "${_rustc}" --print sysroot
                    OUTPUT_VARIABLE _sysroot OUTPUT_STRIP_TRAILING_WHITESPACE
                    RESULT_VARIABLE _rc ERROR_QUIET)
    if(NOT _rc EQUAL 0)
      continue()
    endif()
    if(NOT triple OR EXISTS "${_sysroot}/lib/rustlib/${triple}/lib")
      _iotx_route_found("${_rustc}" OFF "prebuilt core of ${_rustc}")
      return()
    endif()
    if(NOT _with_src AND EXISTS "${_sysroot}/lib/rustlib/src/rust/library/core")
      set(_with_src "${_rustc}")
    endif()
  endforeach()
  if(_with_src)
    _iotx_route_found("${_with_src}" ON
      "core/alloc built from source by ${_with_src} (-Zbuild-std): ${triple} is not installed")
    return()
  endif()
  message(FATAL_ERROR
    "iotx-coap: no Rust compiler here has the standard library for ${triple} "
    "(`rustup target add ${triple}`), or its sources to build it "
    "(`rustup component add rust-src` on nightly, or Debian's rust-web-src); "
    "or unpack a prebuilt archive (scripts/dist.sh) and use find_package(iotx-coap)")
endfunction()

# The cargo that belongs to a rustc (same directory), else the one found.
function(_iotx_cargo_beside rustc out_var)
  get_filename_component(_dir "${rustc}" DIRECTORY)
  if(EXISTS "${_dir}/cargo")
    set(${out_var} "${_dir}/cargo" PARENT_SCOPE)
  else()
    set(${out_var} "${IOTX_CARGO_EXECUTABLE}" PARENT_SCOPE)
  endif()
endfunction()
