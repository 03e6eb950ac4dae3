#pragma once

// The page `dptrain report` writes: one self-contained HTML file (inline CSS and SVG, no script,
// no URL; a Content-Security-Policy that lets the browser load nothing), showing one or more runs
// side by side and, optionally, a checkpoint's confusion matrix.

#include <string>
#include <vector>

#include "dptrain/report/run_files.hpp"

namespace dptrain::report {

// The page: a header with what each run was (world size, global batch, epochs, ...); train and
// test loss, test accuracy, the learning rate (where recorded) and samples/s per epoch, the runs
// overlaid; each run's phase shares per epoch; and with `eval`, its confusion matrix as a heat
// map. `generator` names the program in the footer (e.g. "dptrain 0.1.0"). Every curve is a
// <polyline data-run="LABEL" data-series="QUANTITY"> with a point per epoch that records it.
std::string render_report(const std::vector<Run>& runs, const EvalResult* eval,
                          const std::string& generator);

}  // namespace dptrain::report
