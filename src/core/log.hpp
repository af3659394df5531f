// Minimal structured logging to stderr: one line per event, ISO time, level,
// message. printf-style so the data path can log without allocating.
#pragma once

namespace ringgate::core {

enum class LogLevel { kInfo, kWarn, kError };

void log(LogLevel level, const char* format, ...) __attribute__((format(printf, 2, 3)));

#define RG_INFO(...) ::ringgate::core::log(::ringgate::core::LogLevel::kInfo, __VA_ARGS__)
#define RG_WARN(...) ::ringgate::core::log(::ringgate::core::LogLevel::kWarn, __VA_ARGS__)
#define RG_ERROR(...) ::ringgate::core::log(::ringgate::core::LogLevel::kError, __VA_ARGS__)

}  // namespace ringgate::core
