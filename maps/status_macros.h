// Small status helpers: Abseil 20220623 (Debian 12) ships neither status macros nor matchers, so
// the project keeps its own here, in one place.
#pragma once

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SX_STATUS_CONCAT_INNER_(a, b) a##b
#define SX_STATUS_CONCAT_(a, b) SX_STATUS_CONCAT_INNER_(a, b)

// Returns from the current function if `expr` (an absl::Status) is not OK.
#define SX_RETURN_IF_ERROR(expr)                                 \
  do {                                                           \
    ::absl::Status sx_status_ = (expr);                          \
    if (ABSL_PREDICT_FALSE(!sx_status_.ok())) return sx_status_; \
  } while (0)

// `SX_ASSIGN_OR_RETURN(auto x, MakeX());` unwraps a StatusOr or returns its error.
#define SX_ASSIGN_OR_RETURN(lhs, expr) \
  SX_ASSIGN_OR_RETURN_IMPL_(SX_STATUS_CONCAT_(sx_statusor_, __LINE__), lhs, expr)
// `tmp` and `lhs` are a name and a declaration, which parentheses would break.
#define SX_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr)                                                  \
  auto tmp = (expr);                                      /* NOLINT(bugprone-macro-parentheses) */ \
  if (ABSL_PREDICT_FALSE(!tmp.ok())) return tmp.status(); /* NOLINT(bugprone-macro-parentheses) */ \
  lhs = std::move(tmp).value()                            /* NOLINT(bugprone-macro-parentheses) */
