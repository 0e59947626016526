# Cortex-M4 with its single-precision FPU, hard-float ABI (STM32L4,
# MT2625-class SoCs; QEMU mps2-an386).
#   cmake -DCMAKE_TOOLCHAIN_FILE=firmware/cmake/cortex-m4f.cmake ...
set(IOTX_ARM_CPU_FLAGS "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16")
include("${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi.cmake")
