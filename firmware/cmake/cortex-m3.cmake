# Cortex-M3 (STM32F1/F2/L1, LPC17xx; QEMU mps2-an385), no FPU.
#   cmake -DCMAKE_TOOLCHAIN_FILE=firmware/cmake/cortex-m3.cmake ...
set(IOTX_ARM_CPU_FLAGS "-mcpu=cortex-m3 -mthumb -mfloat-abi=soft")
include("${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi.cmake")
