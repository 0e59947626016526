# Cortex-M33 with its single-precision FPU, hard-float ABI (nRF91/nRF53, STM32L5/U5; QEMU mps2-an505).
#   cmake -DCMAKE_TOOLCHAIN_FILE=firmware/cmake/cortex-m33.cmake ...
set(IOTX_ARM_CPU_FLAGS "-mcpu=cortex-m33 -mthumb -mfloat-abi=hard -mfpu=fpv5-sp-d16")
include("${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi.cmake")
