// Threads that Model.run() reuses from call to call. Starting a thread costs tens of
// microseconds, as long as a whole batch of a small model takes, so each call would otherwise
// pay for its own threads.
#ifndef INTEGR8_PYTHON_WORKER_POOL_H_
#define INTEGR8_PYTHON_WORKER_POOL_H_

#include <unistd.h>

#include <algorithm>
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

  // Calls task(index) for every index in [0, tasks) and returns when all have returned.
  // Index 0 runs on the calling thread, the others on pool threads, started on first need;
  // an index no thread could be started for runs on the calling thread after index 0. One
  // call at a time: concurrent callers wait their turn. task must not throw.
  void Run(size_t tasks, const std::function<void(size_t)>& task) {
    const std::lock_guard<std::mutex> one_call_at_a_time(run_mutex_);
    const size_t on_threads = StartThreads(tasks - 1);
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      task_ = &task;
      tasks_on_threads_ = on_threads;
      pending_ = on_threads;
      ++generation_;
    }
    wake_.notify_all();
    for (size_t index = 0; index < tasks; ++index) {
      if (index == 0 || index > on_threads) task(index);
    }
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return pending_ == 0; });
  }

 private:
  WorkerPool() = default;

  // Grows the pool towards `wanted` threads; returns how many there are (fewer than wanted
  // if the system refused one). A new thread starts from the current generation, so it runs
  // the call about to begin even if it first takes the lock after that call's increment.
  // (generation_ is written only by Run, which holds run_mutex_ as this does.)
  size_t StartThreads(size_t wanted) {
    while (threads_.size() < wanted) {
      try {
        threads_.emplace_back(&WorkerPool::Work, this, threads_.size(), generation_);
      } catch (const std::system_error&) {
        break;
      }
    }
    return std::min(wanted, threads_.size());
  }

  // Thread `thread` runs task index thread + 1 of every call that has that many.
  void Work(size_t thread, uint64_t seen) {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return generation_ != seen; });
      seen = generation_;
      if (thread < tasks_on_threads_) {
        const std::function<void(size_t)>& task = *task_;
        lock.unlock();
        task(thread + 1);
        lock.lock();
        if (--pending_ == 0) done_.notify_one();
      }
    }
  }

  std::mutex run_mutex_;
  std::vector<std::thread> threads_;  // guarded by run_mutex_

  std::mutex mutex_;  // guards what follows
  std::condition_variable wake_;
  std::condition_variable done_;
  uint64_t generation_ = 0;  // one more per call, so that a thread runs each call once
  const std::function<void(size_t)>* task_ = nullptr;
  size_t tasks_on_threads_ = 0;
  size_t pending_ = 0;
};

}  // namespace integr8_python

#endif  // INTEGR8_PYTHON_WORKER_POOL_H_
