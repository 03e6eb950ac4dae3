// `dptrain report`'s reading of an `eval --json` file: an accepted result has N >= 1 classes
// and an N x N confusion matrix of counts >= 0, writes itself back (eval_result_json) as text
// that reads the same, and renders as the report's heat map.
#include <cstdint>
#include <string>

#include "dptrain/report/html_report.hpp"
#include "dptrain/report/run_files.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace dptrain;
  const std::string text(reinterpret_cast<const char*>(data), size);
  fuzz::accepts_input_errors([&] {
    const report::EvalResult result = report::parse_eval_result(text, "eval.json");
    const size_t classes = result.classes.size();
    fuzz::require(classes >= 1 && result.confusion.size() == classes, "N classes, N rows");
    for (const auto& row : result.confusion) {
      fuzz::require(row.size() == classes, "N counts a row");
      for (int64_t count : row)
        fuzz::require(count >= 0, "counts are not negative");
    }
    const std::string written = report::eval_result_json(result);
    const report::EvalResult reread = report::parse_eval_result(written, "rewritten eval.json");
    fuzz::require(report::eval_result_json(reread) == written, "the result reads back the same");
    report::EpochRecord epoch;
    epoch.epoch = 1;
    const report::Run run{"run", "metrics.jsonl", {epoch}};
    const std::string page = report::render_report({run}, &result, "dptrain fuzz");
    fuzz::require(!page.empty(), "the report renders");
  });
  return 0;
}
