// The example's inference: one call of the generated model over a static arena. It lives in
// its own object file (classifier.cpp), which holds all of integr8 the firmware links, so that
// its code size, stack and symbols are measured apart from the printing around it.
#ifndef INTEGR8_EXAMPLE_CLASSIFIER_H_
#define INTEGR8_EXAMPLE_CLASSIFIER_H_

#include <cstdint>

#include <integr8/types.h>

// image: the model's kInput* elements, quantized int8 HWC; scores: kOutputElements int8.
integr8::Status Classify(const int8_t* image, int8_t* scores);

#endif  // INTEGR8_EXAMPLE_CLASSIFIER_H_
