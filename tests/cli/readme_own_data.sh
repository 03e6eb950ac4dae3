#!/usr/bin/env bash
# readme_own_data.sh README DPTRAIN WORKDIR MPIEXEC...: runs the README's "Your own data" h5py
# block as written, then trains on the file it wrote (the MLP, one epoch, 2 ranks) and expects
# the run to score its 5 classes well above chance (1/5). Skipped (77) without python3-h5py.
set -u
readme=$1 dptrain=$2 work=$3
shift 3
# Debian's python3, for which python3-h5py is built, even where another python3 comes first.
python=/usr/bin/python3
[ -x "$python" ] || python=python3
"$python" -c "import h5py, numpy" 2>/dev/null || { echo "python3-h5py is not installed"; exit 77; }
rm -rf "$work"
mkdir -p "$work"
# The first python block after the section's heading.
awk '/^## Your own data/ { section = 1 } section && /^```python/ { inside = 1; next }
     inside && /^```/ { exit } inside { print }' "$readme" >"$work/snippet.py"
[ -s "$work/snippet.py" ] || { echo "FAIL: no python block under 'Your own data'"; exit 1; }
(cd "$work" && timeout 120 "$python" snippet.py) || { echo "FAIL: the README's snippet failed"; exit 1; }
timeout --kill-after=5 300 "$@" -np 2 "$dptrain" train --data "$work/my-data.h5" --epochs 1 \
  --batch-size 16 >"$work/train.out" 2>&1 || { echo "FAIL: training failed:"; tail -5 "$work/train.out"; exit 1; }
grep "^data: " "$work/train.out"
grep -q "^data: .*32x32x3 images, 5 classes" "$work/train.out" || { echo "FAIL: shape not read"; exit 1; }
accuracy=$(sed -n 's/^epoch 1\/1 .*test accuracy \([0-9.]*\)%.*/\1/p' "$work/train.out")
echo "test accuracy ${accuracy}%"
# The classes are separable by construction (a pattern each, noise below the patterns' spread);
# 60%, three times chance, fails only where the data path is wrong.
awk -v a="$accuracy" 'BEGIN { exit !(a >= 60) }' || { echo "FAIL: accuracy ${accuracy}% < 60%"; exit 1; }
