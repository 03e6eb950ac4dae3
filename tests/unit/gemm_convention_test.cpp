// The row-major to column-major mapping that the CUDA backend hands to cuBLAS, checked here with
// a plain column-major GEMM against OpenBLAS's row-major one.
#include "dptrain/backend/gemm_convention.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "dptrain/backend/cpu_backend.hpp"
#include "dptrain/core/random.hpp"

namespace dptrain {
namespace {

// C = alpha op(A) op(B) + beta C, all column-major, as the BLAS reference defines it.
void column_major_reference(const ColumnMajorGemm& g, float alpha, float beta) {
  for (int j = 0; j < g.n; ++j)
    for (int i = 0; i < g.m; ++i) {
      double sum = 0.0;
      for (int p = 0; p < g.k; ++p) {
        const float a = g.trans_first == Transpose::yes ? g.first[p + i * g.ld_first]
                                                        : g.first[i + p * g.ld_first];
        const float b = g.trans_second == Transpose::yes ? g.second[j + p * g.ld_second]
                                                         : g.second[p + j * g.ld_second];
        sum += static_cast<double>(a) * b;
      }
      float& c = g.c[i + j * g.ldc];
      c = static_cast<float>(alpha * sum + beta * c);
    }
}

std::vector<float> random_matrix(size_t n, uint64_t seed) {
  std::vector<float> values(n);
  for (size_t i = 0; i < n; ++i)
    values[i] = random::uniform01(seed, i) - 0.5f;
  return values;
}

TEST(GemmConvention, RowMajorThroughColumnMajorMatchesOpenBlas) {
  CpuBackend backend(1);
  const int m = 5, n = 7, k = 3, pad = 2;
  for (Transpose ta : {Transpose::no, Transpose::yes})
    for (Transpose tb : {Transpose::no, Transpose::yes}) {
      // Row-major shapes: op(A) is m x k, so A is m x k or k x m; likewise B.
      const int a_rows = ta == Transpose::no ? m : k, a_cols = ta == Transpose::no ? k : m;
      const int b_rows = tb == Transpose::no ? k : n, b_cols = tb == Transpose::no ? n : k;
      const int lda = a_cols + pad, ldb = b_cols + pad, ldc = n + pad;
      const std::vector<float> a = random_matrix(static_cast<size_t>(a_rows) * lda, 1);
      const std::vector<float> b = random_matrix(static_cast<size_t>(b_rows) * ldb, 2);
      std::vector<float> expected = random_matrix(static_cast<size_t>(m) * ldc, 3);
      std::vector<float> got = expected;
      backend.gemm(ta, tb, m, n, k, 0.75f, a.data(), lda, b.data(), ldb, 0.5f, expected.data(),
                   ldc);
      column_major_reference(
          column_major_gemm(ta, tb, m, n, k, a.data(), lda, b.data(), ldb, got.data(), ldc), 0.75f,
          0.5f);
      for (size_t i = 0; i < got.size(); ++i)
        ASSERT_NEAR(got[i], expected[i], 1e-5f)
            << "trans_a " << (ta == Transpose::yes) << " trans_b " << (tb == Transpose::yes)
            << " element " << i;
    }
}

}  // namespace
}  // namespace dptrain
