# RV32IMAC (ESP32-C3-class, GD32VF103, SiFive E31; QEMU virt), soft-float
# ILP32 ABI, picolibc.
#   cmake -DCMAKE_TOOLCHAIN_FILE=firmware/cmake/riscv32imac.cmake ...
set(IOTX_RISCV_ARCH_FLAGS "-march=rv32imac -mabi=ilp32")
include("${CMAKE_CURRENT_LIST_DIR}/riscv-unknown-elf.cmake")
