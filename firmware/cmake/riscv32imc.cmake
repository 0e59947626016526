# RV32IMC, no atomics extension (CH32V003-class, ESP32-C2, small
# SiFive/Andes cores), soft-float ILP32 ABI, picolibc. No compare-and-swap:
# see the README's porting guide. Debian's toolchain has no rv32imc
# multilib; GCC links rv32im's C library, which an rv32imc core runs.
#   cmake -DCMAKE_TOOLCHAIN_FILE=firmware/cmake/riscv32imc.cmake ...
set(IOTX_RISCV_ARCH_FLAGS "-march=rv32imc -mabi=ilp32")
include("${CMAKE_CURRENT_LIST_DIR}/riscv-unknown-elf.cmake")
