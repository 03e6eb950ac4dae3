// dptrain_blas_thread_bits: whether OpenBLAS gives the same bits for the same product with 1 to 4
// threads, on the reference MLP's GEMM shapes at 16 and 32 rows (README, "Reproducibility": why
// --exact defaults to one BLAS thread per rank). Prints one line per shape; OPENBLAS_CORETYPE
// picks the kernel set to ask about.
#include <cblas.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "dptrain/core/random.hpp"

namespace {

std::vector<float> random_matrix(size_t n, uint64_t seed) {
  std::vector<float> values(n);
  const uint64_t key = dptrain::random::stream_key(seed, 1);
  for (size_t i = 0; i < n; ++i)
    values[i] = dptrain::random::uniform01(key, i) - 0.5f;
  return values;
}

}  // namespace

int main() {
  struct Shape {
    int m, n, k;
    const char* what;
  };
  const Shape shapes[] = {{16, 64, 784, "16 rows x 784 -> 64 (layer 0 forward)"},
                          {32, 64, 784, "32 rows x 784 -> 64"},
                          {64, 784, 32, "64 x 32 -> 784 (an inner dimension of 32)"},
                          {256, 1024, 784, "256 rows x 784 -> 1024"}};
  std::printf("%s\n", openblas_get_config());
  for (const Shape& s : shapes) {
    const std::vector<float> a = random_matrix(static_cast<size_t>(s.m) * s.k, 1);
    const std::vector<float> b = random_matrix(static_cast<size_t>(s.k) * s.n, 2);
    std::vector<std::vector<float>> products;
    for (int threads = 1; threads <= 4; ++threads) {
      openblas_set_num_threads(threads);
      std::vector<float> c(static_cast<size_t>(s.m) * s.n);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s.m, s.n, s.k, 1.0f, a.data(), s.k,
                  b.data(), s.n, 0.0f, c.data(), s.n);
      products.push_back(c);
    }
    std::printf("%-40s threads 1..4 vs 1 thread:", s.what);
    for (size_t t = 1; t < products.size(); ++t)
      std::printf(" %zu: %s", t + 1,
                  std::memcmp(products[t].data(), products[0].data(),
                              products[0].size() * sizeof(float)) == 0
                      ? "same"
                      : "differs");
    std::printf("\n");
  }
  return 0;
}
