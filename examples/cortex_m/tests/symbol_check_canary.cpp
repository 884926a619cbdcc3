// Everything check_symbols.py must reject, so that its test proves it can fail: soft-float
// arithmetic in both precisions and a heap allocation.
float DivideFloats(float numerator, float denominator) { return numerator / denominator; }

double DivideDoubles(double numerator, double denominator) { return numerator / denominator; }

int* AllocateInt() { return new int(1); }
