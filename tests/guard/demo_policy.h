// The sales policy of the shipped rules over a catalog snapshot built from the demo's
// CREATE TABLE statements (demo/schema.sql), plus one view, for the guard's unit tests.
#pragma once

#include <memory>

#include "pgveil/policy/policy.h"

namespace pgveil::guard::testing {

// `policy_name`: "sales", "sales_lead", "default". Aborts the test binary on failure.
std::shared_ptr<const policy::Policy> DemoPolicy(const char* policy_name = "sales");

}  // namespace pgveil::guard::testing
