// CSV tokenizer helpers: line scanning, delimiter detection, field splitting, headers, numbers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tickstream::csv {

// Removes a leading UTF-8 byte order mark, if any.
std::string_view strip_bom(std::string_view text);

// Removes leading and trailing spaces and tabs.
std::string_view trim(std::string_view text);

// True when the line holds nothing but spaces and tabs.
bool is_blank(std::string_view line);

// Walks the physical lines of a text (LF or CRLF); the views exclude the line terminator.
class LineScanner {
 public:
  explicit LineScanner(std::string_view text) : text_(text) {}

  // Sets `line` to the next line and returns true, or returns false at the end of the text.
  bool next(std::string_view& line);

  // 1-based number of the line last returned by next().
  int64_t line_number() const { return line_number_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  int64_t line_number_ = 0;
};

// ';' when the header line holds ';' outside quotes and no ',' outside quotes; ',' otherwise.
char detect_delimiter(std::string_view header_line);

// Splits one line into fields. Unquoted fields are views into `line`; quoted fields (RFC 4180,
// "" is a quote) are unquoted into `scratch`, which is reused from call to call, so the views
// stay valid until the next call. Returns false when a quote is not closed on the line.
bool split_fields(std::string_view line, char delimiter, std::vector<std::string_view>& fields,
                  std::string& scratch);

// A header name for matching: trimmed and lower-cased.
std::string normalize_name(std::string_view name);

enum class NumberStatus { Ok, NonNumeric, NotFinite };

// Parses a whole field (spaces around it allowed) as a double. Empty text is NonNumeric;
// "nan", "inf" and out-of-range values are NotFinite.
NumberStatus parse_number(std::string_view text, double& value);

}  // namespace tickstream::csv
