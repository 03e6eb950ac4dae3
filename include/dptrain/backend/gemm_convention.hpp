#pragma once

#include "dptrain/backend/backend.hpp"

namespace dptrain {

// A row-major GEMM as a column-major BLAS (cuBLAS) call. A row-major matrix X with leading
// dimension ld is, read column-major, X^T with the same ld. So row-major C = op(A) op(B) is
// column-major C^T = op(B)^T op(A)^T: the same call with the operands swapped, m and n swapped,
// and each operand keeping its own transpose flag. Tested on the CPU against OpenBLAS.
struct ColumnMajorGemm {
  Transpose trans_first;
  Transpose trans_second;
  int m;
  int n;
  int k;
  const float* first;
  int ld_first;
  const float* second;
  int ld_second;
  float* c;
  int ldc;
};

constexpr ColumnMajorGemm column_major_gemm(Transpose trans_a, Transpose trans_b, int m, int n,
                                            int k, const float* a, int lda, const float* b, int ldb,
                                            float* c, int ldc) {
  return {trans_b, trans_a, n, m, k, b, ldb, a, lda, c, ldc};
}

}  // namespace dptrain
