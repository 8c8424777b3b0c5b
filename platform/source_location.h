// SourceLocation: where a call was made, captured by a default argument.
//
//   void Spawn(Task t, SourceLocation where = SourceLocation::Current());
//
// What std::source_location does; polyio has its own because libstdc++ 12's
// <source_location> needs __builtin_source_location, which clang 14 does not
// have, while __builtin_FILE, __builtin_LINE and __builtin_FUNCTION work as
// default arguments in both g++ and clang. The strings are string literals:
// a SourceLocation may be copied and kept anywhere.
//
// Value type; thread-safe.
#ifndef POLYIO_PLATFORM_SOURCE_LOCATION_H_
#define POLYIO_PLATFORM_SOURCE_LOCATION_H_

namespace polyio {

class SourceLocation {
 public:
  // The caller's location, when used as a default argument.
  static constexpr SourceLocation Current(
      const char* file = __builtin_FILE(), unsigned line = __builtin_LINE(),
      const char* function = __builtin_FUNCTION()) {
    return SourceLocation(file, line, function);
  }

  constexpr SourceLocation() = default;

  constexpr const char* file_name() const { return file_; }
  constexpr unsigned line() const { return line_; }
  constexpr const char* function_name() const { return function_; }

 private:
  constexpr SourceLocation(const char* file, unsigned line,
                           const char* function)
      : file_(file), line_(line), function_(function) {}

  const char* file_ = "";
  unsigned line_ = 0;
  const char* function_ = "";
};

}  // namespace polyio

#endif  // POLYIO_PLATFORM_SOURCE_LOCATION_H_
