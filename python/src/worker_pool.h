// Threads that Model.run() reuses from call to call. Starting a thread costs tens of
// microseconds, as long as a whole batch of a small model takes, so each call would otherwise
// pay for its own threads.
#ifndef INTEGR8_PYTHON_WORKER_POOL_H_
#define INTEGR8_PYTHON_WORKER_POOL_H_

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace integr8_python {

class WorkerPool {
 public:
  // This process's pool. Call with the GIL held (it serializes the calls). A child made by
  // fork() gets a pool of its own, since threads do not survive fork; the parent's pool object
  // is left alone in the child, because its mutexes may have been held at the fork.
  static WorkerPool& Get() {
    static WorkerPool* pool = nullptr;
    static pid_t owner = 0;
    if (pool == nullptr || owner != getpid()) {
      pool = new WorkerPool();  // never deleted: its threads wait until the process exits
      owner = getpid();
    }
    return *pool;
  }

  // The most threads a pool keeps (callers run at most this many tasks besides their own).
  static constexpr size_t kMaxThreads = 255;

  // Calls task(index) for every index in [0, tasks) and returns when all have returned.
  // Index 0 runs on the calling thread, the others on pool threads, started on first need;
  // an index no thread could be started for runs on the calling thread after index 0. One
  // call at a time: concurrent callers wait their turn. task must not throw.
  void Run(size_t tasks, const std::function<void(size_t)>& task) {
    const std::lock_guard<std::mutex> one_call_at_a_time(run_mutex_);
    const size_t on_threads = StartThreads(std::min(tasks - 1, kMaxThreads));
    task_ = &task;
    pending_.store(on_threads, std::memory_order_relaxed);
    ++calls_;
    {
      // Under the mutex, so that a thread about to sleep either sees its new call or is
      // already waiting when notified. The release publishes task_. Only the threads this
      // call uses are handed it; the others never read task_, which the next call rewrites
      // only after every thread of this one has finished.
      const std::lock_guard<std::mutex> lock(mutex_);
      for (size_t thread = 0; thread < on_threads; ++thread) {
        calls_of_[thread].store(calls_, std::memory_order_release);
      }
    }
    wake_.notify_all();
    for (size_t index = 0; index < tasks; ++index) {
      if (index == 0 || index > on_threads) task(index);
    }
    if (!SpinUntil([this] { return pending_.load(std::memory_order_acquire) == 0; })) {
      std::unique_lock<std::mutex> lock(mutex_);
      done_.wait(lock, [this] { return pending_.load(std::memory_order_acquire) == 0; });
    }
  }

 private:
  // How long a thread polls before it sleeps. Waking a sleeping thread costs tens of
  // microseconds (over 100 on some virtual machines), more than a small batch takes, while
  // back-to-back calls come much sooner than this.
  static constexpr std::chrono::microseconds kSpin{200};

  WorkerPool() = default;

  static void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ volatile("yield");
#endif
  }

  // Polls done() for up to kSpin; returns whether it became true.
  template <typename Done>
  static bool SpinUntil(const Done& done) {
    const auto deadline = std::chrono::steady_clock::now() + kSpin;
    for (;;) {
      for (int poll = 0; poll < 64; ++poll) {
        if (done()) return true;
        CpuRelax();
      }
      if (std::chrono::steady_clock::now() >= deadline) return done();
    }
  }

  // Grows the pool towards `wanted` threads; returns how many there are (fewer than wanted
  // if the system refused one).
  size_t StartThreads(size_t wanted) {
    while (threads_.size() < wanted) {
      try {
        threads_.emplace_back(&WorkerPool::Work, this, threads_.size());
      } catch (const std::system_error&) {
        break;
      }
    }
    return std::min(wanted, threads_.size());
  }

  // Thread `thread` runs task index thread + 1 of every call handed to it.
  void Work(size_t thread) {
    const std::atomic<uint64_t>& calls = calls_of_[thread];
    uint64_t seen = 0;  // calls_ starts at 0 and the first call is 1
    const auto next_call = [&] { return calls.load(std::memory_order_acquire) != seen; };
    for (;;) {
      if (!SpinUntil(next_call)) {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, next_call);
      }
      seen = calls.load(std::memory_order_acquire);
      (*task_)(thread + 1);
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        // Through the mutex, so that the caller either sees pending_ == 0 or is already
        // waiting when notified.
        { const std::lock_guard<std::mutex> lock(mutex_); }
        done_.notify_one();
      }
    }
  }

  std::mutex run_mutex_;
  // Only Run touches these, under run_mutex_.
  std::vector<std::thread> threads_;
  uint64_t calls_ = 0;

  // Written by Run before it hands the call out (release), read by the threads it hands the
  // call to after they see it (acquire).
  const std::function<void(size_t)>* task_ = nullptr;

  // calls_of_[t]: the last call handed to thread t; a thread runs each call once.
  std::array<std::atomic<uint64_t>, kMaxThreads> calls_of_{};
  std::atomic<size_t> pending_{0};  // tasks of this call still running on threads
  std::mutex mutex_;                     // for sleeping and waking only
  std::condition_variable wake_;
  std::condition_variable done_;
};

}  // namespace integr8_python

#endif  // INTEGR8_PYTHON_WORKER_POOL_H_
