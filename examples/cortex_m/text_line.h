// One line of text built in a fixed buffer with integer formatting of its own, so that the
// example prints through semihosting without stdio (whose printf drags in floating point and
// the heap) and the whole firmware image can be checked for both.
#ifndef INTEGR8_EXAMPLE_TEXT_LINE_H_
#define INTEGR8_EXAMPLE_TEXT_LINE_H_

#include <cstddef>
#include <cstdint>

class TextLine {
 public:
  // Text beyond the capacity is dropped: a short line is better than a stray write.
  TextLine& AppendText(const char* text) {
    while (*text != '\0') AppendChar(*text++);
    return *this;
  }

  TextLine& AppendDecimal(int32_t value) {
    // The magnitude in uint32_t, so that INT32_MIN has one too.
    const uint32_t magnitude =
        value < 0 ? 0u - static_cast<uint32_t>(value) : static_cast<uint32_t>(value);
    if (value < 0) AppendChar('-');
    return AppendUnsigned(magnitude);
  }

  TextLine& AppendUnsigned(uint32_t value) {
    char digits[10];
    size_t count = 0;
    do {
      digits[count++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0);
    while (count > 0) AppendChar(digits[--count]);
    return *this;
  }

  // 0x and eight hexadecimal digits.
  TextLine& AppendHex(uint32_t value) {
    AppendText("0x");
    for (int shift = 28; shift >= 0; shift -= 4) {
      AppendChar("0123456789abcdef"[(value >> shift) & 0xFu]);
    }
    return *this;
  }

  // The line with a newline, for a sink that prints null-terminated text.
  const char* Finish() {
    AppendChar('\n');
    text_[length_] = '\0';
    return text_;
  }

 private:
  void AppendChar(char c) {
    if (length_ + 1 < sizeof text_) text_[length_++] = c;
  }

  char text_[160] = {};
  size_t length_ = 0;
};

#endif  // INTEGR8_EXAMPLE_TEXT_LINE_H_
