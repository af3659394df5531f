// Integration-test harness: real processes (ringgate, nginx, curl, wrk) and raw
// sockets on 127.0.0.1, with ports handed out by the kernel (port 0), never
// fixed. One include for a test file: the utilities, processes and clients
// (harness_base.hpp), the test PKI and TLS backends (harness_tls.hpp), and the
// gateway under test (harness_gateway.hpp).
#pragma once

#include "harness_base.hpp"
#include "harness_gateway.hpp"
#include "harness_tls.hpp"
