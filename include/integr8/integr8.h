// integr8: integer-only neural-network inference for firmware. The one header firmware
// includes. Host-only helpers (integr8/host/) and optional backends are never pulled in here.
#ifndef INTEGR8_INTEGR8_H_
#define INTEGR8_INTEGR8_H_

#include "integr8/config.h"
#include "integr8/fixedpoint.h"
#include "integr8/graph/layers.h"
#include "integr8/graph/sequential.h"
#include "integr8/kernels/add.h"
#include "integr8/kernels/conv2d.h"
#include "integr8/kernels/depthwise.h"
#include "integr8/kernels/linear.h"
#include "integr8/kernels/pool.h"
#include "integr8/kernels/relu.h"
#include "integr8/kernels/requantize.h"
#include "integr8/types.h"
#include "integr8/version.h"

#endif  // INTEGR8_INTEGR8_H_
