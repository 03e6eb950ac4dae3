#pragma once

#include <string>

#include "dptrain/comm/world.hpp"
#include "dptrain/data/data_shape.hpp"

namespace dptrain {

// Collective over `world`: the shape of the rows of the HDF5 data file at `path` and its number
// of classes K, the same on every rank (README, "Your own data"). K is the file's num_classes
// attribute, or else one more than the largest training label, each rank reading the labels of
// an even share of the rows and the ranks taking the maximum. Any problem on any rank is the same
// AgreedError on all of them (exit 2 for a bad file).
DataShape agree_data_shape(const World& world, const std::string& path);

}  // namespace dptrain
