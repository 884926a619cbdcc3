// Shared by integr8._core (core.cpp) and the modules integr8.build() compiles from generated
// model headers (python/integr8/_model_module.cpp): strict NumPy argument checks and
// BindModel, which exposes a compile-time integr8 graph as a Python class.
//
// Nothing here casts: an argument of the wrong dtype, layout or shape is a TypeError or a
// ValueError naming the argument, what was expected and what was given. A kernel Status other
// than kOk is a ValueError naming the op and integr8::StatusName.
#ifndef INTEGR8_PYTHON_MODEL_BINDING_H_
#define INTEGR8_PYTHON_MODEL_BINDING_H_

// pybind11 (and so Python.h) comes first, as Python requires.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <integr8/integr8.h>

#include "worker_pool.h"

namespace integr8_python {

namespace py = pybind11;

// ---------------------------------------------------------------------------------------
// Messages

inline std::string ShapeString(const std::vector<py::ssize_t>& shape) {
  std::string text = "(";
  for (size_t axis = 0; axis < shape.size(); ++axis) {
    if (axis > 0) text += ", ";
    text += std::to_string(shape[axis]);
  }
  if (shape.size() == 1) text += ",";
  return text + ")";
}

inline std::vector<py::ssize_t> ShapeOf(const py::array& array) {
  return std::vector<py::ssize_t>(array.shape(), array.shape() + array.ndim());
}

inline std::string ShapeString(const py::array& array) { return ShapeString(ShapeOf(array)); }

inline std::string TypeName(py::handle value) {
  return py::str(py::type::handle_of(value).attr("__name__"));
}

// "an int8 array of shape (2, 3)" or "float": what the caller actually passed.
inline std::string Describe(py::handle value) {
  if (py::isinstance<py::array>(value)) {
    const auto array = py::reinterpret_borrow<py::array>(value);
    return "an array of dtype " + std::string(py::str(array.dtype())) + " and shape " +
           ShapeString(array);
  }
  return "an object of type " + TypeName(value);
}

// What each Status means, for error messages (types.h documents the same).
inline const char* StatusDescription(integr8::Status status) {
  using integr8::Status;
  switch (status) {
    case Status::kOk: return "no error";
    case Status::kNullPointer: return "a required buffer or parameter array is null";
    case Status::kBadShape:
      return "a dimension is < 1, an element count exceeds INT32_MAX, or no output position";
    case Status::kBadStride: return "a stride is < 1";
    case Status::kBadDilation: return "a dilation is < 1";
    case Status::kBadPadding:
      return "padding is negative, too large, or (pooling) more than half the kernel";
    case Status::kBadGroups: return "groups < 1 or not dividing the input or output channels";
    case Status::kBadMultiplier:
      return "a requantization multiplier outside [2^30, 2^31 - 1] (or an add input rescale "
             "above 1/2)";
    case Status::kBadShift: return "a requantization shift outside [1, 62]";
    case Status::kBadZeroPoint: return "a zero point outside [-128, 127]";
    case Status::kBadActivationRange:
      return "activation_min > activation_max, or a bound outside [-128, 127]";
    case Status::kAccumulatorOverflow:
      return "|bias| + K * 128 * 127 may reach 2^31 (or a pooling window is too large)";
    case Status::kArenaTooSmall: return "the arena is smaller than the graph needs";
    case Status::kAliasing: return "the output overlaps an input";
  }
  return "unknown status";
}

// The op being called ("integr8.linear", "BarsModel.run"): prefixes every message.
class Call {
 public:
  explicit Call(std::string op) : op_(std::move(op)) {}

  [[noreturn]] void TypeError(const std::string& text) const {
    throw py::type_error(op_ + ": " + text);
  }
  [[noreturn]] void ValueError(const std::string& text) const {
    throw py::value_error(op_ + ": " + text);
  }
  void Check(integr8::Status status) const {
    if (status != integr8::Status::kOk) {
      ValueError(std::string(integr8::StatusName(status)) + " (" + StatusDescription(status) +
                 ")");
    }
  }

 private:
  std::string op_;
};

// ---------------------------------------------------------------------------------------
// Scalars: exact Python ints (or NumPy integer scalars) only; bools and floats are refused.

inline py::object NumpyAttribute(const char* name) {
  return py::module_::import("numpy").attr(name);
}

inline int32_t ToInt32(const Call& call, const std::string& name, py::handle value) {
  const bool is_int = (PyLong_Check(value.ptr()) && !PyBool_Check(value.ptr())) ||
                      py::isinstance(value, NumpyAttribute("integer"));
  if (!is_int) call.TypeError(name + " must be an int, got " + Describe(value));
  const auto index = py::reinterpret_steal<py::object>(PyNumber_Index(value.ptr()));
  if (!index) throw py::error_already_set();
  int overflow = 0;
  const long long result = PyLong_AsLongLongAndOverflow(index.ptr(), &overflow);
  if (result == -1 && PyErr_Occurred() != nullptr) throw py::error_already_set();
  if (overflow != 0 || result < INT32_MIN || result > INT32_MAX) {
    call.ValueError(name + " = " + std::string(py::repr(value)) +
                    " is outside int32 [-2147483648, 2147483647]");
  }
  return static_cast<int32_t>(result);
}

inline bool ToBool(const Call& call, const std::string& name, py::handle value) {
  if (PyBool_Check(value.ptr())) return value.ptr() == Py_True;
  if (py::isinstance(value, NumpyAttribute("bool_"))) return PyObject_IsTrue(value.ptr()) == 1;
  call.TypeError(name + " must be a bool, got " + Describe(value));
}

// An int (both axes) or a pair (height, width) of ints.
inline std::pair<int32_t, int32_t> ToPair(const Call& call, const std::string& name,
                                          py::handle value) {
  if (py::isinstance<py::tuple>(value) || py::isinstance<py::list>(value)) {
    const auto items = py::reinterpret_borrow<py::sequence>(value);
    if (items.size() != 2) {
      call.ValueError(name + " must be an int or a pair of ints, got " +
                      std::string(py::repr(value)));
    }
    const py::object height = items[0];
    const py::object width = items[1];
    return {ToInt32(call, name + "[0]", height), ToInt32(call, name + "[1]", width)};
  }
  if (PyLong_Check(value.ptr()) || py::isinstance(value, NumpyAttribute("integer"))) {
    const int32_t both = ToInt32(call, name, value);
    return {both, both};
  }
  call.TypeError(name + " must be an int or a pair of ints, got " + Describe(value));
}

// ---------------------------------------------------------------------------------------
// Arrays

template <typename T>
struct Dtype;
template <>
struct Dtype<int8_t> {
  static constexpr const char* kName = "int8";
};
template <>
struct Dtype<int32_t> {
  static constexpr const char* kName = "int32";
};

// Signed integers of T's width in native byte order (NumPy reports native as '=', and '|'
// for one-byte types); a byte-swapped int32 would be read wrongly, so it is refused too.
template <typename T>
bool HasDtype(const py::array& array) {
  const py::dtype dtype = array.dtype();
  return dtype.kind() == 'i' && dtype.itemsize() == static_cast<py::ssize_t>(sizeof(T)) &&
         (dtype.byteorder() == '=' || dtype.byteorder() == '|');
}

// A C-contiguous, aligned ndarray of dtype T (any ndim); nothing is converted or copied.
template <typename T>
py::array CheckArray(const Call& call, const std::string& name, py::handle value) {
  if (!py::isinstance<py::array>(value)) {
    call.TypeError(name + " must be a numpy.ndarray of dtype " + Dtype<T>::kName + ", got " +
                   Describe(value));
  }
  auto array = py::reinterpret_borrow<py::array>(value);
  if (!HasDtype<T>(array)) {
    call.TypeError(name + " must have dtype " + Dtype<T>::kName + ", got dtype " +
                   std::string(py::str(array.dtype())) +
                   " (integr8 never casts: convert explicitly, checking the range)");
  }
  if ((array.flags() & py::array::c_style) == 0) {
    call.ValueError(name + " must be C-contiguous, got a strided view of shape " +
                    ShapeString(array) + " (use numpy.ascontiguousarray)");
  }
  if ((array.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_) == 0) {
    call.ValueError(name + " must be aligned to its element size");
  }
  return array;
}

// CheckArray plus: exactly `ndim` axes (ndim < 0: at least one axis), no empty axis, every
// extent and the element count within INT32_MAX as the kernels' int32 indices require.
template <typename T>
py::array CheckTensor(const Call& call, const std::string& name, py::handle value, int ndim,
                      const char* layout) {
  py::array array = CheckArray<T>(call, name, value);
  if (ndim >= 0 && array.ndim() != ndim) {
    call.ValueError(name + " must be " + std::to_string(ndim) + "-D " + layout + ", got shape " +
                    ShapeString(array));
  }
  if (ndim < 0 && array.ndim() < 1) {
    call.ValueError(name + " must have at least one axis " + layout + ", got a 0-d array");
  }
  for (py::ssize_t axis = 0; axis < array.ndim(); ++axis) {
    if (array.shape(axis) < 1) {
      call.ValueError(name + " is empty (shape " + ShapeString(array) + ")");
    }
  }
  if (array.size() > INT32_MAX) {
    call.ValueError(name + " holds " + std::to_string(array.size()) +
                    " elements, more than INT32_MAX that the kernels index");
  }
  return array;
}

// An extent already bounded by CheckTensor (size <= INT32_MAX).
inline int32_t Extent(const py::array& array, py::ssize_t axis) {
  return static_cast<int32_t>(array.shape(axis));
}

inline int32_t ElementCount32(const py::array& array) {
  return static_cast<int32_t>(array.size());
}

inline bool Overlaps(const py::array& a, const py::array& b) {
  return integr8::BuffersOverlap(a.data(), static_cast<size_t>(a.nbytes()), b.data(),
                                 static_cast<size_t>(b.nbytes()));
}

// The kernels write their outputs while inputs are read; an overlap would corrupt the inputs
// (weights, bias) or the result. `exact_ok`: the op supports out being exactly that input.
inline void CheckNoOverlap(const Call& call, const py::array& out, const char* name,
                           const py::array& input, bool exact_ok = false) {
  if (!Overlaps(out, input)) return;
  if (exact_ok && out.data() == input.data() && out.nbytes() == input.nbytes()) return;
  call.ValueError(std::string("out overlaps ") + name +
                  (exact_ok ? " without being exactly it" : ""));
}

// The int8 result: a new array, or the caller's `out` after checking it is an int8,
// C-contiguous, writable array of exactly `shape`. Callers have bounded the element count by
// INT32_MAX (the kernels' validation) before calling, so the allocation cannot overflow.
inline py::array Output(const Call& call, py::handle out,
                        const std::vector<py::ssize_t>& shape) {
  if (out.is_none()) return py::array_t<int8_t>(shape);
  py::array array = CheckArray<int8_t>(call, "out", out);
  if (!array.writeable()) call.ValueError("out is read-only");
  if (ShapeOf(array) != shape) {
    call.ValueError("out must have shape " + ShapeString(shape) + ", got shape " +
                    ShapeString(array));
  }
  return array;
}

template <typename T>
const T* DataOf(const py::array& array) {
  return static_cast<const T*>(array.data());
}

// ---------------------------------------------------------------------------------------
// Models

// The constants of a generated model header (namespace integr8_models::<name>).
struct ModelInfo {
  const char* class_name;
  int32_t input_height;
  int32_t input_width;
  int32_t input_channels;
  int32_t input_zero_point;
  int32_t output_elements;
  int32_t output_zero_point;
  size_t arena_bytes;
};

namespace model_internal {

struct AlignedFree {
  void operator()(int8_t* data) const { ::operator delete(data, std::align_val_t{64}); }
};
using Arena = std::unique_ptr<int8_t, AlignedFree>;

inline Arena AllocateArena(size_t bytes) {
  // One byte at least so that a graph needing no arena still gets a non-null pointer.
  return Arena(static_cast<int8_t*>(::operator new(std::max<size_t>(bytes, 1),
                                                   std::align_val_t{64})));
}

// A new C-contiguous int8 array of shape [rows, columns], made through NumPy's C API as
// py::array_t does, without the shape and stride std::vectors it allocates on every call.
inline py::array NewInt8Matrix(py::ssize_t rows, py::ssize_t columns) {
  auto& api = py::detail::npy_api::get();
  PyObject* descr = api.PyArray_DescrFromType_(py::detail::npy_api::NPY_BYTE_);
  if (descr == nullptr) throw py::error_already_set();
  const Py_intptr_t shape[2] = {rows, columns};
  // Steals descr (also on failure); strides nullptr means C order.
  PyObject* array = api.PyArray_NewFromDescr_(api.PyArray_Type_, descr, 2, shape, nullptr,
                                              nullptr, 0, nullptr);
  if (array == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::array>(array);
}

// Arenas up to this size live on the calling thread's stack when one worker runs the batch
// (small enough for any thread stack, even one set by threading.stack_size(32 KiB)); larger
// ones, and multi-worker arenas, are allocated per call. Either way every call and every
// worker has its own arena, so concurrent run() calls from several Python threads share
// nothing.
constexpr size_t kStackArenaBytes = 4096;

// Samples go through Model::InvokeBatch several at a time, so that each kernel multiplies
// several rows against weights it loaded once: as many as keep one step's arena within
// kStepArenaBytes (so that it stays in the core's cache beside the weights), at most
// kMaxSamplesPerStep. A model with a large arena runs one sample per step.
constexpr size_t kStepArenaBytes = size_t{32} * 1024;
constexpr int32_t kMaxSamplesPerStep = 64;

template <class Model>
constexpr int32_t SamplesPerStep() {
  const int32_t most = std::min(kMaxSamplesPerStep, Model::kMaxBatches);
  int32_t samples = 1;
  while (samples < most && Model::ArenaBytes(samples + 1) <= kStepArenaBytes) {
    ++samples;
  }
  return samples;
}

}  // namespace model_internal

// Runs Model (an integr8::Sequential) on NumPy batches; one instance per Python object.
template <class Model>
class ModelRunner {
 public:
  explicit ModelRunner(const ModelInfo& info)
      : info_(info), name_(info.class_name), run_call_(name_ + ".run") {}

  const ModelInfo& info() const { return info_; }
  const std::string& name() const { return name_; }

  // batch: int8 [N, H, W, C] or [N, H * W * C]; returns int8 [N, output_elements]. Samples
  // are split into `threads` contiguous chunks, each with its own arena, run with the GIL
  // released kSamplesPerStep at a time: the first on the calling thread, the others on the
  // threads of the process's WorkerPool, which later calls reuse. One worker (one sample, or
  // threads=1) runs on the calling thread alone, with an arena of at most kStackArenaBytes
  // on its stack.
  py::array Run(py::handle batch, py::handle threads) const {
    // Built once per runner: the success path constructs no std::string.
    const Call& call = run_call_;
    const py::array input = CheckArray<int8_t>(call, "batch", batch);
    const int32_t height = info_.input_height;
    const int32_t width = info_.input_width;
    const int32_t channels = info_.input_channels;
    const py::ssize_t sample_elements = Model::kInputElements;
    const py::ssize_t ndim = input.ndim();
    const py::ssize_t* const shape = input.shape();
    const bool nhwc = ndim == 4 && shape[1] == height && shape[2] == width &&
                      shape[3] == channels;
    const bool flat = ndim == 2 && shape[1] == sample_elements;
    if (!nhwc && !flat) {
      call.ValueError("batch must have shape [N, " + std::to_string(height) + ", " +
                      std::to_string(width) + ", " + std::to_string(channels) + "] or [N, " +
                      std::to_string(sample_elements) + "], got shape " + ShapeString(input));
    }
    const py::ssize_t samples = shape[0];
    if (samples < 1) call.ValueError("batch is empty (shape " + ShapeString(input) + ")");

    // Asked once: glibc reads /sys on every call, which would cost more than running a
    // small model on one sample.
    static const size_t hardware_threads = std::max(1u, std::thread::hardware_concurrency());
    size_t workers = hardware_threads;
    if (!threads.is_none()) {
      const int32_t requested = ToInt32(call, "threads", threads);
      if (requested < 1) call.ValueError("threads = " + std::to_string(requested) + " is < 1");
      workers = static_cast<size_t>(requested);
    }
    workers = std::min(workers, static_cast<size_t>(samples));
    // Each worker is a thread, kept for later calls, and an arena: threads=10**6 must not
    // mean a million of both.
    // The result does not depend on the count, so a larger request is clamped.
    constexpr size_t kMaxWorkers = WorkerPool::kMaxThreads + 1;
    workers = std::min(workers, kMaxWorkers);

    // N * output_elements bytes: N already fits memory as N * input_elements (>= 1) bytes, but
    // the output may be larger than the input, so bound it before allocating.
    const py::ssize_t output_elements = Model::kOutputElements;
    if (samples > PY_SSIZE_T_MAX / output_elements) {
      call.ValueError("batch of " + std::to_string(samples) + " samples: output too large");
    }
    py::array output = model_internal::NewInt8Matrix(samples, output_elements);

    const int8_t* input_data = DataOf<int8_t>(input);
    int8_t* output_data = static_cast<int8_t*>(output.mutable_data());
    const auto total = static_cast<size_t>(samples);

    // Every worker's chunk has at most ceil(total / workers) samples.
    const size_t arena_bytes = StepArenaBytes((total + workers - 1) / workers);
    if (workers == 1) {
      // The calling thread runs every sample. The GIL is still released: it measured
      // ~0.07 us, and keeps other Python threads (perhaps running models too) going meanwhile.
      size_t failed_sample = 0;
      integr8::Status status = integr8::Status::kOk;
      // Compiled only for models whose one-sample arena fits the stack buffer: for larger
      // ones g++ sees constant tensor offsets past its end in a branch that never runs, and
      // -Warray-bounds refuses them.
      if constexpr (Model::kArenaBytes <= model_internal::kStackArenaBytes) {
        if (arena_bytes <= model_internal::kStackArenaBytes) {
          {
            py::gil_scoped_release release;
            alignas(64) int8_t arena[model_internal::kStackArenaBytes];
            status = RunSamples(input_data, output_data, 0, total, arena, &failed_sample);
          }
          if (status != integr8::Status::kOk) SampleError(failed_sample, status);
          return output;
        }
      }
      // Allocated here, where bad_alloc becomes MemoryError, not with the GIL released.
      const model_internal::Arena arena = model_internal::AllocateArena(arena_bytes);
      {
        py::gil_scoped_release release;
        status = RunSamples(input_data, output_data, 0, total, arena.get(), &failed_sample);
      }
      if (status != integr8::Status::kOk) SampleError(failed_sample, status);
      return output;
    }

    // Arenas are allocated here, where bad_alloc becomes MemoryError, not in the workers.
    std::vector<model_internal::Arena> arenas;
    arenas.reserve(workers);
    for (size_t worker = 0; worker < workers; ++worker) {
      arenas.push_back(model_internal::AllocateArena(arena_bytes));
    }
    std::vector<integr8::Status> statuses(workers, integr8::Status::kOk);
    std::vector<size_t> failed_samples(workers, 0);

    const auto run_chunk = [&](size_t worker) {
      // Contiguous chunk [begin, end): sizes differ by at most one sample.
      const size_t begin = total / workers * worker + std::min(worker, total % workers);
      const size_t end = begin + total / workers + (worker < total % workers ? 1 : 0);
      statuses[worker] = RunSamples(input_data, output_data, begin, end, arenas[worker].get(),
                                    &failed_samples[worker]);
    };
    WorkerPool& pool = WorkerPool::Get();  // with the GIL held, as Get requires
    {
      py::gil_scoped_release release;
      pool.Run(workers, run_chunk);
    }
    for (size_t worker = 0; worker < workers; ++worker) {
      if (statuses[worker] != integr8::Status::kOk) {
        SampleError(failed_samples[worker], statuses[worker]);
      }
    }
    return output;
  }

 private:
  static constexpr size_t kSamplesPerStep =
      static_cast<size_t>(model_internal::SamplesPerStep<Model>());

  // Arena bytes for a chunk of `samples` samples run kSamplesPerStep at a time.
  static size_t StepArenaBytes(size_t samples) {
    return Model::ArenaBytes(static_cast<int32_t>(std::min(samples, kSamplesPerStep)));
  }

  // Runs samples [begin, end), kSamplesPerStep at a time, from an arena of at least
  // StepArenaBytes(end - begin) bytes; on the first failure stores the index of the first
  // sample of the failing step in *failed_sample and returns its Status. Touches no Python
  // object: called with the GIL released.
  static integr8::Status RunSamples(const int8_t* input_data, int8_t* output_data,
                                    size_t begin, size_t end, int8_t* arena,
                                    size_t* failed_sample) {
    for (size_t sample = begin; sample < end; sample += kSamplesPerStep) {
      const size_t step = std::min(kSamplesPerStep, end - sample);
      const int8_t* step_input = input_data + sample * static_cast<size_t>(Model::kInputElements);
      int8_t* step_output = output_data + sample * static_cast<size_t>(Model::kOutputElements);
      const integr8::Status status =
          step == 1 ? Model::Invoke(step_input, step_output, arena, Model::kArenaBytes)
                    : Model::InvokeBatch(step_input, step_output, static_cast<int32_t>(step),
                                         arena, Model::ArenaBytes(static_cast<int32_t>(step)));
      if (status != integr8::Status::kOk) {
        *failed_sample = sample;
        return status;
      }
    }
    return integr8::Status::kOk;
  }

  [[noreturn]] void SampleError(size_t sample, integr8::Status status) const {
    run_call_.ValueError("sample " + std::to_string(sample) + ": " +
                         integr8::StatusName(status) + " (" + StatusDescription(status) + ")");
  }

  ModelInfo info_;
  std::string name_;
  Call run_call_;  // "<class_name>.run", prefixing run()'s errors
};

// Adds class `info.class_name` to `module`: Model() with run(batch, *, threads=None) and
// read-only properties input_shape, input_elements, output_elements, input_zero_point,
// output_zero_point, arena_bytes. module_local: the same model may be bound by several
// extension modules (integr8._core and a module integr8.build() compiled) without clashing.
// Prefer INTEGR8_PYTHON_BIND_MODEL, which fills ModelInfo from the header's constants.
template <class Model>
void BindModel(py::module_& module, const ModelInfo& info) {
  if (int64_t{info.input_height} * info.input_width * info.input_channels !=
          Model::kInputElements ||
      info.output_elements != Model::kOutputElements ||
      info.arena_bytes != Model::kArenaBytes) {
    throw py::value_error(std::string(info.class_name) +
                          ": the header's shape constants do not match its Model");
  }
  using Runner = ModelRunner<Model>;
  py::class_<Runner>(module, info.class_name, py::module_local(),
                     "An integr8 compile-time graph (integr8::Sequential) run on NumPy "
                     "batches of int8 samples.")
      .def(py::init([info]() { return Runner(info); }))
      .def("run", &Runner::Run, py::arg("batch"), py::kw_only(),
           py::arg("threads") = py::none(),
           "run(batch, *, threads=None) -> int8 [N, output_elements]\n\n"
           "batch: int8 [N, H, W, C] or [N, H*W*C], C-contiguous raw quantized values.\n"
           "threads: worker threads (default: hardware concurrency; at most 256 and at most\n"
           "N are used); the batch is split into contiguous chunks, one arena each, with the\n"
           "GIL released. The result does not depend on threads.")
      .def_property_readonly(
          "input_shape",
          [](const Runner& self) {
            return py::make_tuple(self.info().input_height, self.info().input_width,
                                  self.info().input_channels);
          },
          "(H, W, C) of one sample, NHWC")
      .def_property_readonly(
          "input_elements", [](const Runner&) { return Model::kInputElements; },
          "H * W * C")
      .def_property_readonly(
          "output_elements", [](const Runner&) { return Model::kOutputElements; },
          "int8 outputs per sample")
      .def_property_readonly(
          "input_zero_point", [](const Runner& self) { return self.info().input_zero_point; },
          "zero point of the int8 input")
      .def_property_readonly(
          "output_zero_point",
          [](const Runner& self) { return self.info().output_zero_point; },
          "zero point of the int8 output")
      .def_property_readonly(
          "arena_bytes", [](const Runner&) { return Model::kArenaBytes; },
          "bytes of arena one sample needs (Model::kArenaBytes)")
      .def("__repr__", [](const Runner& self) {
        const ModelInfo& model = self.info();
        return self.name() + "(input_shape=(" + std::to_string(model.input_height) + ", " +
               std::to_string(model.input_width) + ", " + std::to_string(model.input_channels) +
               "), output_elements=" + std::to_string(Model::kOutputElements) +
               ", arena_bytes=" + std::to_string(Model::kArenaBytes) + ")";
      });
}

}  // namespace integr8_python

// Binds integr8_models::<name> from a generated header as Python class `class_name`, checking
// at compile time that the header's constants agree with its Model.
#define INTEGR8_PYTHON_BIND_MODEL(module, class_name, model_namespace)                       \
  do {                                                                                      \
    static_assert(int64_t{model_namespace::kInputHeight} * model_namespace::kInputWidth *   \
                          model_namespace::kInputChannels ==                                \
                      model_namespace::Model::kInputElements,                               \
                  "kInputHeight * kInputWidth * kInputChannels != Model::kInputElements");  \
    static_assert(model_namespace::kOutputElements == model_namespace::Model::kOutputElements, \
                  "kOutputElements != Model::kOutputElements");                             \
    static_assert(model_namespace::kArenaBytes == model_namespace::Model::kArenaBytes,      \
                  "kArenaBytes != Model::kArenaBytes");                                     \
    ::integr8_python::BindModel<model_namespace::Model>(                                    \
        module, ::integr8_python::ModelInfo{                                                \
                    class_name, model_namespace::kInputHeight, model_namespace::kInputWidth, \
                    model_namespace::kInputChannels, model_namespace::kInputZeroPoint,      \
                    model_namespace::kOutputElements, model_namespace::kOutputZeroPoint,    \
                    model_namespace::kArenaBytes});                                         \
  } while (false)

#endif  // INTEGR8_PYTHON_MODEL_BINDING_H_
