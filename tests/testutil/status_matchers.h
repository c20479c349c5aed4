// File: tests/testutil/status_matchers.h
// gtest helpers for boltpp::Status and Result<T>: readable printing and
// ASSERT_OK / EXPECT_CODE / ASSERT_OK_AND_ASSIGN.
#pragma once

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <utility>

#include "boltpp/status.h"

namespace boltpp {

// gtest finds these by ADL when it prints a value in a failure message.
inline void PrintTo(Code code, std::ostream* os) {
  *os << "Code(" << static_cast<int>(code) << " \"" << CodeMessage(code) << "\")";
}
inline void PrintTo(const Status& s, std::ostream* os) {
  if (s.ok()) {
    *os << "OK";
  } else {
    *os << "Status(" << static_cast<int>(s.code()) << ": " << s.ToString() << ")";
  }
}

}  // namespace boltpp

namespace boltpp::testing {

inline const Status& AsStatus(const Status& s) { return s; }
template <typename T>
const Status& AsStatus(const Result<T>& r) {
  return r.status();
}

inline std::string Describe(const Status& s) {
  if (s.ok()) return "OK";
  return "[code " + std::to_string(static_cast<int>(s.code())) + " \"" +
         std::string(CodeMessage(s.code())) + "\"] " + s.ToString();
}

}  // namespace boltpp::testing

#define BOLTPP_TU_CONCAT_INNER(a, b) a##b
#define BOLTPP_TU_CONCAT(a, b) BOLTPP_TU_CONCAT_INNER(a, b)

// `expr` is a Status or a Result<T>. The macros accept streamed messages
// (EXPECT_OK(s) << "context"). __COUNTER__ keeps the temporaries of nested
// uses (an EXPECT_OK inside a lambda inside an ASSERT_OK) distinct.
#define BOLTPP_TU_CHECK_OK(fatal, expr)                                      \
  BOLTPP_TU_CHECK_OK_IMPL(fatal, expr, BOLTPP_TU_CONCAT(_bt_r, __COUNTER__), \
                          BOLTPP_TU_CONCAT(_bt_s, __COUNTER__))
#define BOLTPP_TU_CHECK_OK_IMPL(fatal, expr, r, s)                                  \
  switch (0)                                                                        \
  case 0:                                                                           \
  default:                                                                          \
    if (auto&& r = (expr); false) {                                                 \
    } else if (const ::boltpp::Status& s = ::boltpp::testing::AsStatus(r); false) { \
    } else                                                                          \
      fatal(s.ok()) << #expr << " -> " << ::boltpp::testing::Describe(s) << " "
#define ASSERT_OK(expr) BOLTPP_TU_CHECK_OK(ASSERT_TRUE, expr)
#define EXPECT_OK(expr) BOLTPP_TU_CHECK_OK(EXPECT_TRUE, expr)

#define BOLTPP_TU_CHECK_CODE(fatal, expr, want)                                      \
  BOLTPP_TU_CHECK_CODE_IMPL(fatal, expr, want, BOLTPP_TU_CONCAT(_bt_r, __COUNTER__), \
                            BOLTPP_TU_CONCAT(_bt_s, __COUNTER__))
#define BOLTPP_TU_CHECK_CODE_IMPL(fatal, expr, want, r, s)                          \
  switch (0)                                                                        \
  case 0:                                                                           \
  default:                                                                          \
    if (auto&& r = (expr); false) {                                                 \
    } else if (const ::boltpp::Status& s = ::boltpp::testing::AsStatus(r); false) { \
    } else                                                                          \
      fatal(s.code(), (want)) << #expr << " -> " << ::boltpp::testing::Describe(s) << " "
#define ASSERT_CODE(expr, want) BOLTPP_TU_CHECK_CODE(ASSERT_EQ, expr, want)
#define EXPECT_CODE(expr, want) BOLTPP_TU_CHECK_CODE(EXPECT_EQ, expr, want)

// ASSERT_OK_AND_ASSIGN(auto tx, db->Begin(true));
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  BOLTPP_TU_ASSIGN_IMPL(BOLTPP_TU_CONCAT(_bt_result_, __LINE__), lhs, expr)
#define BOLTPP_TU_ASSIGN_IMPL(tmp, lhs, expr)                                            \
  auto tmp = (expr);                                                                     \
  ASSERT_TRUE(tmp.ok()) << #expr << " -> " << ::boltpp::testing::Describe(tmp.status()); \
  lhs = std::move(tmp).value()

// Inside a function returning Status (Update/View/Batch callbacks).
#define BOLTPP_RETURN_IF_ERROR(expr)                                           \
  BOLTPP_TU_RETURN_IF_ERROR_IMPL(expr, BOLTPP_TU_CONCAT(_bt_rie, __COUNTER__), \
                                 BOLTPP_TU_CONCAT(_bt_ries, __COUNTER__))
#define BOLTPP_TU_RETURN_IF_ERROR_IMPL(expr, r, s)              \
  do {                                                          \
    auto&& r = (expr);                                          \
    const ::boltpp::Status& s = ::boltpp::testing::AsStatus(r); \
    if (!s.ok()) return s;                                      \
  } while (0)
