// The request parser (http_request.h): one pass over the lines of the head,
// each checked as soon as its CRLF is there.
#include "examples/http_request.h"

#include <cstdint>

namespace polyio::examples::http {
namespace {

// tchar (RFC 9110 section 5.6.2): the characters of methods and field names.
bool IsTokenChar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
      (c >= 'A' && c <= 'Z')) {
    return true;
  }
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTokenChar(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// The request-target: visible ASCII, no spaces (RFC 9112 section 3.2 forms
// are all made of these).
bool IsTarget(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7e) return false;
  }
  return true;
}

// field-value characters: visible, obs-text (bytes >= 0x80), space, tab.
bool IsFieldValue(std::string_view s) {
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 ? u != '\t' : u == 0x7f) return false;
  }
  return true;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// `lower` must be lower case: field names and Connection options are
// case-insensitive.
bool EqualsIgnoreCase(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

// 1*DIGIT; a value too big for size_t saturates (it is too large anyway).
bool ParseContentLength(std::string_view s, size_t* value) {
  if (s.empty()) return false;
  size_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const size_t digit = static_cast<size_t>(c - '0');
    v = v > (SIZE_MAX - digit) / 10 ? SIZE_MAX : v * 10 + digit;
  }
  *value = v;
  return true;
}

enum class LineEnd { kFound, kMissing, kBad };

// The line starting at *pos, without its CRLF; *pos moves past it.
LineEnd NextLine(std::string_view window, size_t* pos, std::string_view* line) {
  const size_t lf = window.find('\n', *pos);
  if (lf == std::string_view::npos) return LineEnd::kMissing;
  if (lf == *pos || window[lf - 1] != '\r') return LineEnd::kBad;
  *line = window.substr(*pos, lf - 1 - *pos);
  *pos = lf + 1;
  return LineEnd::kFound;
}

// "METHOD SP target SP HTTP/1.x".
bool ParseRequestLine(std::string_view line, Request* request) {
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return false;
  request->method = line.substr(0, sp1);
  std::string_view rest = line.substr(sp1 + 1);
  const size_t sp2 = rest.find(' ');
  if (sp2 == std::string_view::npos) return false;
  request->target = rest.substr(0, sp2);
  const std::string_view version = rest.substr(sp2 + 1);
  if (!IsToken(request->method) || !IsTarget(request->target)) return false;
  if (version.size() != 8 || version.substr(0, 7) != "HTTP/1." ||
      version[7] < '0' || version[7] > '9') {
    return false;
  }
  request->minor_version = version[7] - '0';
  return true;
}

// What the header fields say about framing and the connection.
struct Fields {
  bool has_content_length = false;
  size_t content_length = 0;
  bool has_transfer_encoding = false;
  bool close = false;
  bool keep_alive = false;
  int hosts = 0;
};

bool ParseConnectionOptions(std::string_view value, Fields* fields) {
  while (!value.empty()) {
    const size_t comma = value.find(',');
    const std::string_view option = TrimSpaces(value.substr(0, comma));
    if (EqualsIgnoreCase(option, "close")) fields->close = true;
    if (EqualsIgnoreCase(option, "keep-alive")) fields->keep_alive = true;
    if (!option.empty() && !IsToken(option)) return false;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return true;
}

bool ParseField(std::string_view line, Fields* fields) {
  // A leading space or tab continues the previous line (obs-fold): refused.
  if (line.front() == ' ' || line.front() == '\t') return false;
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  const std::string_view name = line.substr(0, colon);
  const std::string_view raw_value = line.substr(colon + 1);
  if (!IsToken(name) || !IsFieldValue(raw_value)) return false;
  const std::string_view value = TrimSpaces(raw_value);
  if (EqualsIgnoreCase(name, "content-length")) {
    size_t length = 0;
    if (!ParseContentLength(value, &length)) return false;
    if (fields->has_content_length && fields->content_length != length) {
      return false;
    }
    fields->has_content_length = true;
    fields->content_length = length;
  } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
    fields->has_transfer_encoding = true;
  } else if (EqualsIgnoreCase(name, "connection")) {
    return ParseConnectionOptions(value, fields);
  } else if (EqualsIgnoreCase(name, "host")) {
    ++fields->hosts;
  }
  return true;
}

ParseResult Fail(ParseStatus status) { return ParseResult{status, {}}; }

}  // namespace

int StatusCodeOf(ParseStatus status) {
  switch (status) {
    case ParseStatus::kComplete:
    case ParseStatus::kIncomplete:
      return 0;
    case ParseStatus::kBadRequest:
      return 400;
    case ParseStatus::kHeadTooLarge:
      return 431;
    case ParseStatus::kContentTooLarge:
      return 413;
    case ParseStatus::kNotImplemented:
      return 501;
  }
  return 400;
}

ParseResult ParseRequest(std::string_view input) {
  // A head must end within the first kMaxRequestSize bytes; looking no
  // further keeps the work per call bounded whatever the caller passes.
  const std::string_view window = input.substr(0, kMaxRequestSize);
  size_t pos = 0;
  std::string_view line;
  auto missing = [&] {
    return Fail(window.size() == kMaxRequestSize ? ParseStatus::kHeadTooLarge
                                                 : ParseStatus::kIncomplete);
  };

  ParseResult result{ParseStatus::kComplete, {}};
  Request& request = result.request;
  // Empty lines before the request line are ignored (RFC 9112 section 2.2).
  do {
    switch (NextLine(window, &pos, &line)) {
      case LineEnd::kMissing:
        return missing();
      case LineEnd::kBad:
        return Fail(ParseStatus::kBadRequest);
      case LineEnd::kFound:
        break;
    }
  } while (line.empty());
  if (!ParseRequestLine(line, &request)) return Fail(ParseStatus::kBadRequest);

  Fields fields;
  for (;;) {
    switch (NextLine(window, &pos, &line)) {
      case LineEnd::kMissing:
        return missing();
      case LineEnd::kBad:
        return Fail(ParseStatus::kBadRequest);
      case LineEnd::kFound:
        break;
    }
    if (line.empty()) break;  // the end of the head
    if (!ParseField(line, &fields)) return Fail(ParseStatus::kBadRequest);
  }

  if (fields.has_transfer_encoding) return Fail(ParseStatus::kNotImplemented);
  const bool http11 = request.minor_version >= 1;
  if (http11 ? fields.hosts != 1 : fields.hosts > 1) {
    return Fail(ParseStatus::kBadRequest);
  }
  const size_t head_size = pos;
  if (fields.content_length > kMaxRequestSize - head_size) {
    return Fail(ParseStatus::kContentTooLarge);
  }
  if (input.size() - head_size < fields.content_length) {
    return Fail(ParseStatus::kIncomplete);
  }
  request.size = head_size + fields.content_length;
  request.keep_alive = !fields.close && (http11 || fields.keep_alive);
  return result;
}

}  // namespace polyio::examples::http
