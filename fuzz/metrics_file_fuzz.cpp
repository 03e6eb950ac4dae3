// `dptrain report`'s reading of a --metrics file (one JSON object per line and epoch), and the
// page it renders from the run: the epochs it accepts rise from 1, and any of them, with
// whatever numbers (NaN, infinities, extremes) the file holds, renders.
#include <cstdint>
#include <string>
#include <vector>

#include "dptrain/report/html_report.hpp"
#include "dptrain/report/run_files.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dptrain;
  const std::string text(reinterpret_cast<const char*>(data), size);
  fuzz::accepts_input_errors([&] {
    report::Run run{"run", "metrics.jsonl", report::parse_metrics(text, "metrics.jsonl")};
    fuzz::require(!run.epochs.empty(), "a metrics file holds an epoch");
    for (size_t i = 0; i < run.epochs.size(); ++i)
      fuzz::require(
          run.epochs[i].epoch >= 1 && (i == 0 || run.epochs[i].epoch > run.epochs[i - 1].epoch),
          "epochs rise from 1");
    const std::string page = report::render_report({run}, nullptr, "dptrain fuzz");
    fuzz::require(!page.empty(), "the report renders");
  });
  return 0;
}
