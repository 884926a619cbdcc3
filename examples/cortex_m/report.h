// The example's whole output, shared by the firmware and its host twin so that both print the
// same bytes when the arithmetic agrees.
#ifndef INTEGR8_EXAMPLE_REPORT_H_
#define INTEGR8_EXAMPLE_REPORT_H_

using TextSink = void (*)(const char* text);

// Classifies every test image and prints, line by line to sink: each image's label,
// prediction and int8 scores, a checksum of all scores, and the status Classify returns for
// a null image and for null scores. Returns true if every status was the expected one.
bool PrintReport(TextSink sink);

#endif  // INTEGR8_EXAMPLE_REPORT_H_
