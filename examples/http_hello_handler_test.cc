// The answers of http_hello (http_hello_handler.h), byte for byte.
#include "examples/http_hello_handler.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace polyio::examples::http {
namespace {

constexpr std::string_view kGet = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
constexpr std::string_view kHello =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n"
    "\r\nHello, World!\n";
constexpr std::string_view kHelloClose =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n"
    "Connection: close\r\n\r\nHello, World!\n";
constexpr std::string_view kNotAllowed =
    "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\nContent-Length: 0\r\n"
    "\r\n";
constexpr std::string_view kBadRequest =
    "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n"
    "\r\n";

struct Reply {
  Answered answered;
  std::string output;
};

Reply Answer(std::string_view input, size_t output_size = 4096) {
  std::vector<char> out(output_size);
  Reply run;
  run.answered = AnswerRequests(input, out);
  run.output.assign(out.data(), run.answered.produced);
  return run;
}

TEST(AnswerRequestsTest, AnswersAGet) {
  Reply run = Answer(kGet);
  EXPECT_EQ(run.output, kHello);
  EXPECT_EQ(run.answered.consumed, kGet.size());
  EXPECT_EQ(run.answered.next, Next::kRead);
}

TEST(AnswerRequestsTest, AnswersPipelinedRequestsInOrder) {
  const std::string input = std::string(kGet) +
                            "POST / HTTP/1.1\r\nHost: a\r\n"
                            "Content-Length: 2\r\n\r\nhi" +
                            std::string(kGet);
  Reply run = Answer(input);
  EXPECT_EQ(run.output, std::string(kHello) + std::string(kNotAllowed) +
                            std::string(kHello));
  EXPECT_EQ(run.answered.consumed, input.size());
  EXPECT_EQ(run.answered.next, Next::kRead);
}

TEST(AnswerRequestsTest, LeavesAPartialRequestForTheNextRead) {
  const std::string input = std::string(kGet) + "GET / HT";
  Reply run = Answer(input);
  EXPECT_EQ(run.output, kHello);
  EXPECT_EQ(run.answered.consumed, kGet.size());
  EXPECT_EQ(run.answered.next, Next::kRead);
  EXPECT_EQ(Answer("GET / HT").answered.produced, 0u);
}

TEST(AnswerRequestsTest, StopsAfterConnectionClose) {
  const std::string input = std::string(kGet) +
                            "GET / HTTP/1.1\r\nHost: a\r\n"
                            "Connection: close\r\n\r\n" +
                            std::string(kGet);
  Reply run = Answer(input);
  EXPECT_EQ(run.output, std::string(kHello) + std::string(kHelloClose));
  EXPECT_EQ(run.answered.next, Next::kClose);
}

TEST(AnswerRequestsTest, AnswersHttp10AsItAsks) {
  Reply keep = Answer("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_EQ(keep.output,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
            "14\r\nConnection: keep-alive\r\n\r\nHello, World!\n");
  EXPECT_EQ(keep.answered.next, Next::kRead);
  Reply close = Answer("GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(close.output, kHelloClose);
  EXPECT_EQ(close.answered.next, Next::kClose);
}

TEST(AnswerRequestsTest, AnswersAMalformedRequestWith400AndCloses) {
  const std::string input = std::string(kGet) + "garbage\r\n\r\n";
  Reply run = Answer(input);
  EXPECT_EQ(run.output, std::string(kHello) + std::string(kBadRequest));
  EXPECT_EQ(run.answered.next, Next::kClose);
}

TEST(AnswerRequestsTest, AnswersOtherParseErrorsWithTheirStatus) {
  Reply te = Answer(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_TRUE(te.output.starts_with("HTTP/1.1 501 Not Implemented\r\n"))
      << te.output;
  EXPECT_EQ(te.answered.next, Next::kClose);
  Reply big = Answer(std::string(9000, 'x'));
  EXPECT_TRUE(big.output.starts_with(
      "HTTP/1.1 431 Request Header Fields Too Large\r\n"))
      << big.output;
  EXPECT_EQ(big.answered.next, Next::kClose);
}

// With room for one response at a time, the caller writes and calls again:
// every request is still answered, in order.
TEST(AnswerRequestsTest, StopsWhenTheOutputIsFullAndGoesOnFromThere) {
  std::string input;
  for (int i = 0; i < 5; ++i) input += kGet;
  std::string written;
  std::string_view pending = input;
  int calls = 0;
  for (;;) {
    Reply run = Answer(pending, kMaxResponseSize);
    ++calls;
    written += run.output;
    pending.remove_prefix(run.answered.consumed);
    if (run.answered.next != Next::kOutputFull) {
      EXPECT_EQ(run.answered.next, Next::kRead);
      break;
    }
  }
  std::string expected;
  for (int i = 0; i < 5; ++i) expected += kHello;
  EXPECT_EQ(written, expected);
  EXPECT_TRUE(pending.empty());
  EXPECT_GE(calls, 3);
}

}  // namespace
}  // namespace polyio::examples::http
