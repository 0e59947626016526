# Cortex-M0 (nRF51, QEMU microbit; also the M0+ of RP2040/STM32L0/SAMD21), no FPU.
# ARMv6-M has no compare-and-swap; see the README's porting guide.
#   cmake -DCMAKE_TOOLCHAIN_FILE=firmware/cmake/cortex-m0.cmake ...
set(IOTX_ARM_CPU_FLAGS "-mcpu=cortex-m0 -mthumb -mfloat-abi=soft")
include("${CMAKE_CURRENT_LIST_DIR}/arm-none-eabi.cmake")
