/* iotx-coap extensions (transmission parameters): the same header for every vendor line. */
#include "../iotx_coap_ext.h"
