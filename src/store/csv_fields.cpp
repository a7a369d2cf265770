// CSV tokenizer helpers: memchr line scanning, quote-aware field splitting, header names, numbers.
#include "store/csv_fields.hpp"

#include <cmath>
#include <cstring>

#include <fast_float/fast_float.h>

namespace tickstream::csv {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }

// Unquotes the field starting at the opening quote `p` into `scratch`, then appends any non-space
// text up to the delimiter (`"12"3` reads 123, like Python's csv module). Returns the position of
// the delimiter or `end`, or nullptr when the quote is not closed.
const char* unquote_field(const char* p, const char* end, char delimiter, std::string& scratch) {
  ++p;  // opening quote
  while (true) {
    if (p == end) return nullptr;
    const void* hit = std::memchr(p, '"', static_cast<size_t>(end - p));
    if (hit == nullptr) return nullptr;
    const char* q = static_cast<const char*>(hit);
    scratch.append(p, static_cast<size_t>(q - p));
    if (q + 1 < end && q[1] == '"') {
      scratch.push_back('"');
      p = q + 2;
      continue;
    }
    p = q + 1;
    break;
  }
  while (p < end && *p != delimiter) {
    if (!is_space(*p)) scratch.push_back(*p);
    ++p;
  }
  return p;
}

// Splits a line that holds at least one quote character.
bool split_quoted(std::string_view line, char delimiter, std::vector<std::string_view>& fields,
                  std::string& scratch) {
  fields.clear();
  scratch.clear();
  scratch.reserve(line.size());  // unquoting never grows the text: views into scratch stay valid
  const char* p = line.data();
  const char* const end = p + line.size();
  while (true) {
    const char* s = p;
    while (s < end && is_space(*s)) ++s;
    const char* stop = nullptr;
    if (s < end && *s == '"') {
      const size_t start = scratch.size();
      stop = unquote_field(s, end, delimiter, scratch);
      if (stop == nullptr) return false;
      fields.emplace_back(scratch.data() + start, scratch.size() - start);
    } else {
      const void* hit = std::memchr(p, delimiter, static_cast<size_t>(end - p));
      stop = hit == nullptr ? end : static_cast<const char*>(hit);
      fields.emplace_back(p, static_cast<size_t>(stop - p));
    }
    if (stop == end) return true;
    p = stop + 1;
  }
}

}  // namespace

std::string_view strip_bom(std::string_view text) {
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
  return text;
}

std::string_view trim(std::string_view text) {
  size_t b = 0;
  size_t e = text.size();
  while (b < e && is_space(text[b])) ++b;
  while (e > b && is_space(text[e - 1])) --e;
  return text.substr(b, e - b);
}

bool is_blank(std::string_view line) {
  for (const char c : line) {
    if (!is_space(c)) return false;
  }
  return true;
}

bool LineScanner::next(std::string_view& line) {
  if (pos_ >= text_.size()) return false;
  const char* begin = text_.data() + pos_;
  const size_t left = text_.size() - pos_;
  const void* hit = std::memchr(begin, '\n', left);
  size_t len = hit == nullptr ? left : static_cast<size_t>(static_cast<const char*>(hit) - begin);
  pos_ += hit == nullptr ? len : len + 1;
  if (len > 0 && begin[len - 1] == '\r') --len;
  line = std::string_view(begin, len);
  ++line_number_;
  return true;
}

char detect_delimiter(std::string_view header_line) {
  bool in_quotes = false;
  bool comma = false;
  bool semicolon = false;
  for (const char c : header_line) {
    if (c == '"') {
      in_quotes = !in_quotes;
    } else if (!in_quotes) {
      comma = comma || c == ',';
      semicolon = semicolon || c == ';';
    }
  }
  return semicolon && !comma ? ';' : ',';
}

bool split_fields(std::string_view line, char delimiter, std::vector<std::string_view>& fields,
                  std::string& scratch) {
  // Fast path: one pass over the line; the first quote hands the line to the quote-aware split.
  fields.clear();
  const char* p = line.data();
  const char* const end = p + line.size();
  const char* start = p;
  for (; p != end; ++p) {
    if (*p == delimiter) {
      fields.emplace_back(start, static_cast<size_t>(p - start));
      start = p + 1;
    } else if (*p == '"') {
      return split_quoted(line, delimiter, fields, scratch);
    }
  }
  fields.emplace_back(start, static_cast<size_t>(end - start));
  return true;
}

std::string normalize_name(std::string_view name) {
  const std::string_view t = trim(name);
  std::string out(t);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

NumberStatus parse_number(std::string_view text, double& value) {
  const char* first = text.data();
  const char* last = first + text.size();
  if (first != last && !is_space(*first) && !is_space(last[-1])) {
    // common case: nothing to trim
  } else {
    const std::string_view t = trim(text);
    first = t.data();
    last = first + t.size();
  }
  // fast_float, like std::from_chars, rejects a leading '+'
  if (last - first > 1 && *first == '+' && first[1] != '-' && first[1] != '+') ++first;
  if (first == last) return NumberStatus::NonNumeric;
  const auto result = fast_float::from_chars(first, last, value);
  if (result.ptr != last) return NumberStatus::NonNumeric;
  if (result.ec == std::errc::result_out_of_range) return NumberStatus::NotFinite;
  if (result.ec != std::errc()) return NumberStatus::NonNumeric;
  if (!std::isfinite(value)) return NumberStatus::NotFinite;
  return NumberStatus::Ok;
}

}  // namespace tickstream::csv
