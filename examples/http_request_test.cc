// The request parser (http_request.h): what it accepts, what it refuses, and
// that every prefix of a request agrees with the whole.
#include "examples/http_request.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace polyio::examples::http {
namespace {

// What wrk sends.
constexpr std::string_view kWrkGet =
    "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";

TEST(ParseRequestTest, ParsesAGet) {
  ParseResult r = ParseRequest(kWrkGet);
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.request.method, "GET");
  EXPECT_EQ(r.request.target, "/");
  EXPECT_EQ(r.request.minor_version, 1);
  EXPECT_TRUE(r.request.keep_alive);
  EXPECT_EQ(r.request.size, kWrkGet.size());
}

TEST(ParseRequestTest, LooksOnlyAtTheFirstOfPipelinedRequests) {
  const std::string two =
      std::string(kWrkGet) + "POST /form HTTP/1.1\r\nHost: a\r\n\r\n";
  ParseResult first = ParseRequest(two);
  ASSERT_EQ(first.status, ParseStatus::kComplete);
  EXPECT_EQ(first.request.size, kWrkGet.size());
  ParseResult second =
      ParseRequest(std::string_view(two).substr(first.request.size));
  ASSERT_EQ(second.status, ParseStatus::kComplete);
  EXPECT_EQ(second.request.method, "POST");
  EXPECT_EQ(second.request.target, "/form");
  EXPECT_EQ(first.request.size + second.request.size, two.size());
}

TEST(ParseRequestTest, CountsTheBodyInTheRequestsSize) {
  const std::string_view with_body =
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello";
  ParseResult r = ParseRequest(with_body);
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.request.size, with_body.size());
  EXPECT_EQ(ParseRequest(with_body.substr(0, with_body.size() - 1)).status,
            ParseStatus::kIncomplete);
}

TEST(ParseRequestTest, SkipsEmptyLinesBeforeTheRequestLine) {
  const std::string input = "\r\n\r\n" + std::string(kWrkGet);
  ParseResult r = ParseRequest(input);
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.request.size, input.size());
}

TEST(ParseRequestTest, ReadsPersistenceFromVersionAndConnection) {
  struct Case {
    std::string_view request;
    bool keep_alive;
  };
  const Case cases[] = {
      {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", true},
      {"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false},
      {"GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n", false},
      {"GET / HTTP/1.1\r\nHost: a\r\nconnection: keep-alive, close\r\n\r\n",
       false},
      {"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n", true},
      {"GET / HTTP/1.0\r\n\r\n", false},
      {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true},
      {"GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n",
       false},
  };
  for (const Case& c : cases) {
    ParseResult r = ParseRequest(c.request);
    ASSERT_EQ(r.status, ParseStatus::kComplete) << c.request;
    EXPECT_EQ(r.request.keep_alive, c.keep_alive) << c.request;
  }
}

// Every proper prefix of a valid request is incomplete; the request itself
// and anything longer is complete with the same size.
TEST(ParseRequestTest, EveryPrefixOfARequestIsIncomplete) {
  const std::string_view requests[] = {
      kWrkGet,
      "GET / HTTP/1.0\r\n\r\n",
      "\r\nGET /x?y=z HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n",
      "PUT /p HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
  };
  for (std::string_view request : requests) {
    for (size_t k = 0; k < request.size(); ++k) {
      EXPECT_EQ(ParseRequest(request.substr(0, k)).status,
                ParseStatus::kIncomplete)
          << request << " cut at " << k;
    }
    const std::string longer = std::string(request) + "GET / HT";
    ParseResult r = ParseRequest(longer);
    ASSERT_EQ(r.status, ParseStatus::kComplete) << request;
    EXPECT_EQ(r.request.size, request.size());
  }
}

TEST(ParseRequestTest, RefusesMalformedRequests) {
  const std::string_view bad[] = {
      "garbage\r\n\r\n",
      "GET /\r\n\r\n",                                 // no version
      "GET  / HTTP/1.1\r\nHost: a\r\n\r\n",            // empty target
      " GET / HTTP/1.1\r\nHost: a\r\n\r\n",            // empty method
      "G(T / HTTP/1.1\r\nHost: a\r\n\r\n",             // not a token
      "GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n",         // control in target
      "GET / HTTP/2.0\r\nHost: a\r\n\r\n",             // not HTTP/1.x
      "GET / http/1.1\r\nHost: a\r\n\r\n",             // case matters
      "GET / HTTP/1.1 \r\nHost: a\r\n\r\n",            // trailing space
      "GET / HTTP/1.1\nHost: a\n\n",                   // bare LF
      "GET / HTTP/1.1\r\nHost: a\n\r\n",               // bare LF in a field
      "GET / HTTP/1.1\r\nHo\rst: a\r\n\r\n",           // CR in a name
      "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",          // CR in a value
      "GET / HTTP/1.1\r\nHost : a\r\n\r\n",            // space before colon
      "GET / HTTP/1.1\r\nHost a\r\n\r\n",              // no colon
      "GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n",      // no name
      "GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n",       // obs-fold
      "GET / HTTP/1.1\r\nHost: a\x7f\r\n\r\n",         // DEL in a value
      "GET / HTTP/1.1\r\n\r\n",                        // 1.1 without Host
      "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",  // two Hosts
      "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
      "Content-Length: 2\r\n\r\nab",
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: a b\r\n\r\n",
  };
  for (std::string_view request : bad) {
    EXPECT_EQ(ParseRequest(request).status, ParseStatus::kBadRequest)
        << request;
  }
}

// An error shows as soon as the line that holds it is complete, and stays.
TEST(ParseRequestTest, ReportsAnErrorOnceItsLineIsComplete) {
  EXPECT_EQ(ParseRequest("garbage").status, ParseStatus::kIncomplete);
  EXPECT_EQ(ParseRequest("garbage\r").status, ParseStatus::kIncomplete);
  EXPECT_EQ(ParseRequest("garbage\r\n").status, ParseStatus::kBadRequest);
  EXPECT_EQ(ParseRequest("GET / HTTP/1.1\r\nHost : a\r\n").status,
            ParseStatus::kBadRequest);
  EXPECT_EQ(ParseRequest("garbage\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n").status,
            ParseStatus::kBadRequest);
}

TEST(ParseRequestTest, RefusesTransferEncoding) {
  ParseResult r = ParseRequest(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(r.status, ParseStatus::kNotImplemented);
  EXPECT_EQ(StatusCodeOf(r.status), 501);
}

TEST(ParseRequestTest, LimitsTheHeadToMaxRequestSize) {
  const std::string start = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ";
  // A head of exactly kMaxRequestSize bytes is accepted...
  std::string fits = start;
  fits.append(kMaxRequestSize - start.size() - 4, 'p');
  fits += "\r\n\r\n";
  ASSERT_EQ(fits.size(), kMaxRequestSize);
  ParseResult r = ParseRequest(fits + "more");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.request.size, kMaxRequestSize);
  // ...one byte more is not, as soon as kMaxRequestSize bytes have come
  // without the head's end.
  std::string over = start;
  over.append(kMaxRequestSize - start.size() - 3, 'p');
  over += "\r\n\r\n";
  EXPECT_EQ(ParseRequest(std::string_view(over).substr(0, kMaxRequestSize - 1))
                .status,
            ParseStatus::kIncomplete);
  EXPECT_EQ(
      ParseRequest(std::string_view(over).substr(0, kMaxRequestSize)).status,
      ParseStatus::kHeadTooLarge);
  EXPECT_EQ(ParseRequest(over).status, ParseStatus::kHeadTooLarge);
  EXPECT_EQ(StatusCodeOf(ParseStatus::kHeadTooLarge), 431);
}

TEST(ParseRequestTest, LimitsTheBodyToWhatFitsBesideTheHead) {
  const std::string head = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ";
  // 4 digits of length, then CRLF CRLF.
  const size_t fits = kMaxRequestSize - (head.size() + 4 + 4);
  const std::string ok = head + std::to_string(fits) + "\r\n\r\n";
  ASSERT_EQ(ok.size() + fits, kMaxRequestSize);
  EXPECT_EQ(ParseRequest(ok).status, ParseStatus::kIncomplete);
  EXPECT_EQ(ParseRequest(ok + std::string(fits, 'b')).status,
            ParseStatus::kComplete);
  // Too large is known from the head alone: no need to wait for the body.
  EXPECT_EQ(ParseRequest(head + std::to_string(fits + 1) + "\r\n\r\n").status,
            ParseStatus::kContentTooLarge);
  EXPECT_EQ(ParseRequest(head + "99999999999999999999999999\r\n\r\n").status,
            ParseStatus::kContentTooLarge);
  EXPECT_EQ(StatusCodeOf(ParseStatus::kContentTooLarge), 413);
}

TEST(ParseRequestTest, NeverReadsPastTheInput) {
  // Each byte value at each position of a short request: whatever the
  // result, the parser must stay inside the string (ASan checks this: the
  // copy below is exactly as long as the input).
  const std::string base(kWrkGet);
  for (size_t i = 0; i < base.size(); ++i) {
    for (int b = 0; b < 256; ++b) {
      std::string input = base;
      input[i] = static_cast<char>(b);
      std::vector<char> exact(input.begin(), input.end());
      ParseResult r =
          ParseRequest(std::string_view(exact.data(), exact.size()));
      if (r.status == ParseStatus::kComplete) {
        EXPECT_LE(r.request.size, exact.size());
      }
    }
  }
}

}  // namespace
}  // namespace polyio::examples::http
