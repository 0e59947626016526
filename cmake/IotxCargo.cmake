# Helpers to drive cargo from CMake.
#
# cargo is always run (it is its own incremental build system and knows the
# Rust dependency graph far better than CMake could); CMake only needs to know
# where the outputs land. Output paths follow cargo's layout:
#   <target-dir>[/<triple>]/<profile-dir>/...   with profile "dev" -> "debug".

include_guard(GLOBAL)

# PATH first (the user's own toolchain), then rustup's default home.
set(_iotx_rust_home "$ENV{HOME}/.cargo/bin")
if(DEFINED ENV{CARGO_HOME} AND NOT "$ENV{CARGO_HOME}" STREQUAL "")
  set(_iotx_rust_home "$ENV{CARGO_HOME}/bin" "${_iotx_rust_home}")
endif()
find_program(IOTX_CARGO_EXECUTABLE cargo PATHS ${_iotx_rust_home} DOC "cargo, the Rust build tool")
if(NOT IOTX_CARGO_EXECUTABLE)
  message(FATAL_ERROR "iotx-coap: cargo not found; install Rust (https://rustup.rs) or set IOTX_CARGO_EXECUTABLE, "
                      "or use a prebuilt archive (scripts/dist.sh) through find_package(iotx-coap)")
endif()
find_program(IOTX_RUSTC_EXECUTABLE rustc PATHS ${_iotx_rust_home} DOC "rustc, the Rust compiler")
include(IotxRustTarget)

get_property(_iotx_multi_config GLOBAL PROPERTY GENERATOR_IS_MULTI_CONFIG)

# Cargo profile for one CMake configuration name: IOTX_COAP_CARGO_PROFILE,
# else `firmware` for the C library of a bare-metal target (kind "lib"),
# else release or dev.
function(_iotx_cargo_profile cfg out_var kind)
  if(IOTX_COAP_CARGO_PROFILE)
    set(_p "${IOTX_COAP_CARGO_PROFILE}")
  elseif(kind STREQUAL "lib" AND IOTX_COAP_BARE_METAL)
    set(_p firmware)
  elseif(cfg MATCHES "^(Release|MinSizeRel|RelWithDebInfo)$")
    set(_p release)
  else()
    set(_p dev)
  endif()
  set(${out_var} "${_p}" PARENT_SCOPE)
endfunction()

function(_iotx_cargo_profile_dir profile out_var)
  if(profile STREQUAL "dev")
    set(${out_var} debug PARENT_SCOPE)
  else()
    set(${out_var} "${profile}" PARENT_SCOPE)
  endif()
endfunction()

# Sets, in the caller's scope:
#   <prefix>_PROFILE     cargo profile (a generator expression with multi-config generators)
#   <prefix>_DIR         output directory (likewise)
#   <prefix>_ALL_DIRS    every output directory any configuration may use
#   <prefix>_CONFIGS     list of "<CONFIG>|<dir>" pairs (multi-config only)
function(_iotx_cargo_layout prefix triple kind)
  set(_base "${IOTX_COAP_CARGO_TARGET_DIR}")
  if(triple)
    set(_base "${_base}/${triple}")
  endif()
  if(_iotx_multi_config)
    set(_dirs "")
    set(_pairs "")
    foreach(_cfg IN LISTS CMAKE_CONFIGURATION_TYPES)
      _iotx_cargo_profile("${_cfg}" _p "${kind}")
      _iotx_cargo_profile_dir("${_p}" _d)
      list(APPEND _dirs "${_base}/${_d}")
      list(APPEND _pairs "${_cfg}|${_base}/${_d}")
    endforeach()
    list(REMOVE_DUPLICATES _dirs)
    _iotx_cargo_profile("" _fixed "${kind}")
    if(IOTX_COAP_CARGO_PROFILE OR _fixed STREQUAL "firmware")
      _iotx_cargo_profile_dir("${_fixed}" _d)
      set(_profile "${_fixed}")
      set(_dir "${_base}/${_d}")
    else()
      set(_rel "$<OR:$<CONFIG:Release>,$<CONFIG:MinSizeRel>,$<CONFIG:RelWithDebInfo>>")
      set(_profile "$<IF:${_rel},release,dev>")
      set(_dir "${_base}/$<IF:${_rel},release,debug>")
    endif()
    set(${prefix}_CONFIGS "${_pairs}" PARENT_SCOPE)
  else()
    _iotx_cargo_profile("${CMAKE_BUILD_TYPE}" _profile "${kind}")
    _iotx_cargo_profile_dir("${_profile}" _d)
    set(_dir "${_base}/${_d}")
    set(_dirs "${_dir}")
    set(${prefix}_CONFIGS "" PARENT_SCOPE)
  endif()
  set(${prefix}_PROFILE "${_profile}" PARENT_SCOPE)
  set(${prefix}_DIR "${_dir}" PARENT_SCOPE)
  set(${prefix}_ALL_DIRS "${_dirs}" PARENT_SCOPE)
endfunction()

# iotx_cargo_staticlib(TARGET <custom-target> IMPORTED <imported-target>
#                      PACKAGE <cargo-package> LIBNAME <lib-name> MANIFEST <Cargo.toml>)
# Creates a custom target running `cargo build -p <package>` for the Rust
# target of the toolchain (iotx_rust_target), and a GLOBAL IMPORTED STATIC
# library for its output (GLOBAL so that targets in a parent project that
# add_subdirectory()'d us can link it). For bare metal, the archive CMake
# links is a copy whose compiler_builtins mem routines are made local
# (ffi/localize-symbols.txt), so the firmware's C library provides them.
# Sets IOTX_COAP_STATICLIB_INSTALL_PATH (possibly a generator expression).
function(iotx_cargo_staticlib)
  cmake_parse_arguments(A "" "TARGET;IMPORTED;PACKAGE;LIBNAME;MANIFEST" "" ${ARGN})
  _iotx_cargo_layout(_L "${IOTX_COAP_TRIPLE}" lib)
  set(_file "${CMAKE_STATIC_LIBRARY_PREFIX}${A_LIBNAME}${CMAKE_STATIC_LIBRARY_SUFFIX}")
  get_filename_component(_src "${A_MANIFEST}" DIRECTORY)

  set(_byproducts "")
  foreach(_d IN LISTS _L_ALL_DIRS)
    list(APPEND _byproducts "${_d}/${_file}")
  endforeach()
  set(_target_args "")
  if(IOTX_COAP_TRIPLE)
    set(_target_args --target "${IOTX_COAP_TRIPLE}")
  endif()
  set(_env "RUSTC=${IOTX_COAP_RUSTC}")
  if(IOTX_COAP_BUILD_STD)
    # Building core needs a nightly compiler's features; the size flags of
    # that route come with it (ffi/build-std.toml).
    list(APPEND _env RUSTC_BOOTSTRAP=1)
    list(APPEND _target_args --config "${_src}/ffi/build-std.toml")
  endif()

  set(_commands
    COMMAND "${CMAKE_COMMAND}" -E env ${_env}
            "${IOTX_COAP_CARGO}" build
            --manifest-path "${A_MANIFEST}"
            --target-dir "${IOTX_COAP_CARGO_TARGET_DIR}"
            -p "${A_PACKAGE}"
            --profile "${_L_PROFILE}"
            --no-default-features --features "${IOTX_COAP_CARGO_FEATURES}"
            ${_target_args}
            ${IOTX_COAP_CARGO_FLAGS})
  set(_lib_dir "${_L_DIR}")
  if(IOTX_COAP_BARE_METAL)
    set(_lib_dir "${CMAKE_CURRENT_BINARY_DIR}/lib")
    list(APPEND _byproducts "${_lib_dir}/${_file}")
    set(_objcopy "${CMAKE_OBJCOPY}")
    if(NOT _objcopy)
      message(FATAL_ERROR "iotx-coap: the toolchain names no objcopy (CMAKE_OBJCOPY)")
    endif()
    list(APPEND _commands
      COMMAND "${CMAKE_COMMAND}" -E make_directory "${_lib_dir}"
      COMMAND "${CMAKE_COMMAND}" -E copy "${_L_DIR}/${_file}" "${_lib_dir}/${_file}"
      COMMAND "${_objcopy}" "--localize-symbols=${_src}/ffi/localize-symbols.txt" "${_lib_dir}/${_file}")
  endif()

  add_custom_target(${A_TARGET} ALL
    ${_commands}
    BYPRODUCTS ${_byproducts}
    WORKING_DIRECTORY "${_src}"
    USES_TERMINAL
    COMMENT "cargo build -p ${A_PACKAGE} (${IOTX_COAP_TRIPLE_SHOWN}, profile ${_L_PROFILE})"
    VERBATIM)

  add_library(${A_IMPORTED} STATIC IMPORTED GLOBAL)
  if(_L_CONFIGS AND NOT IOTX_COAP_BARE_METAL)
    foreach(_pair IN LISTS _L_CONFIGS)
      string(REPLACE "|" ";" _pair "${_pair}")
      list(GET _pair 0 _cfg)
      list(GET _pair 1 _dir)
      string(TOUPPER "${_cfg}" _cfg)
      set_property(TARGET ${A_IMPORTED} APPEND PROPERTY IMPORTED_CONFIGURATIONS ${_cfg})
      set_target_properties(${A_IMPORTED} PROPERTIES IMPORTED_LOCATION_${_cfg} "${_dir}/${_file}")
    endforeach()
  else()
    set_target_properties(${A_IMPORTED} PROPERTIES IMPORTED_LOCATION "${_lib_dir}/${_file}")
  endif()
  add_dependencies(${A_IMPORTED} ${A_TARGET})

  set(IOTX_COAP_STATICLIB_INSTALL_PATH "${_lib_dir}/${_file}" PARENT_SCOPE)
endfunction()

# iotx_cargo_executable(TARGET <custom-target> PACKAGE <cargo-package> BIN <bin-name>
#                       MANIFEST <Cargo.toml> OUT_VAR <var> [ALL])
# Builds a host binary (never cross-compiled: it runs during the tests) and
# stores its path (possibly a generator expression) in <var>.
function(iotx_cargo_executable)
  cmake_parse_arguments(A "ALL" "TARGET;PACKAGE;BIN;MANIFEST;OUT_VAR" "" ${ARGN})
  _iotx_cargo_layout(_L "" exe)
  set(_file "${A_BIN}${CMAKE_EXECUTABLE_SUFFIX}")
  set(_byproducts "")
  foreach(_d IN LISTS _L_ALL_DIRS)
    list(APPEND _byproducts "${_d}/${_file}")
  endforeach()
  set(_all "")
  if(A_ALL)
    set(_all ALL)
  endif()
  add_custom_target(${A_TARGET} ${_all}
    COMMAND "${CMAKE_COMMAND}" -E env --unset=RUSTC "${IOTX_CARGO_EXECUTABLE}" build
            --manifest-path "${A_MANIFEST}"
            --target-dir "${IOTX_COAP_CARGO_TARGET_DIR}"
            -p "${A_PACKAGE}" --bin "${A_BIN}"
            --profile "${_L_PROFILE}"
    BYPRODUCTS ${_byproducts}
    WORKING_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}"
    USES_TERMINAL
    COMMENT "cargo build -p ${A_PACKAGE} --bin ${A_BIN} (profile ${_L_PROFILE})"
    VERBATIM)
  set(${A_OUT_VAR} "${_L_DIR}/${_file}" PARENT_SCOPE)
endfunction()
