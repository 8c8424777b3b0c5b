// WaitList: the intrusive FIFO queue of waiting futures that every primitive
// and channel in polyio::sync is built on, and WakeBatch, which wakes the
// waiters a state change released once the primitive's lock is dropped.
//
// A waiting future embeds a node (a struct deriving from WaitNode that adds
// what that primitive hands over: permits, a notification, a release). The
// node lives in the future, and a future does not move once polled, so
// queueing never allocates. The queue belongs to the primitive; the primitive
// links, unlinks and fills nodes only while holding its own polyio::Mutex,
// and the future reads its node only under that same mutex. This is why the
// node's fields are not annotated: their guard is the owning primitive's
// mutex, which the node cannot name.
//
// The protocol every primitive follows (so that cancellation is safe):
//   - A future that must wait stores its waker in its node and links it.
//   - The primitive hands something to a waiter by unlinking the node,
//     recording the outcome in it and moving its waker into a WakeBatch.
//     From then on the outcome belongs to the future.
//   - A future that is cancelled while still linked unlinks itself and
//     gives up nothing. A future destroyed with an outcome it never returned
//     gives the outcome back (the next waiter gets it).
//
// Wakers are called after the mutex is released: a waker may run arbitrary
// scheduler code on this thread, and another thread's woken task will want
// the very mutex we hold.
//
// Thread-compatible: guarded by the owner's mutex.
#ifndef POLYIO_RUNTIME_SYNC_WAIT_LIST_H_
#define POLYIO_RUNTIME_SYNC_WAIT_LIST_H_

#include <cstddef>
#include <type_traits>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "platform/intrusive_list.h"
#include "runtime/task/waker.h"

namespace polyio::sync::internal {

class WaitNode {
 public:
  WaitNode() = default;
  WaitNode(const WaitNode&) = delete;
  WaitNode& operator=(const WaitNode&) = delete;

  bool linked() const { return linked_; }

  // Keeps the waker of the task polling now; skips the clone when the
  // stored one already wakes that task.
  void SetWaker(const Waker& waker) {
    if (!waker_.WillWake(waker)) waker_ = waker;
  }
  Waker TakeWaker() { return std::move(waker_); }

 private:
  template <class Node>
  friend class WaitList;

  ListLink<WaitNode> link_;
  bool linked_ = false;
  Waker waker_;
};

// A FIFO of Node (a type derived from WaitNode): the project's intrusive
// list, plus the count and the "linked" flag the primitives ask about.
template <class Node>
class WaitList {
  static_assert(std::is_base_of_v<WaitNode, Node>);

 public:
  WaitList() = default;
  WaitList(const WaitList&) = delete;
  WaitList& operator=(const WaitList&) = delete;

  bool empty() const { return nodes_.empty(); }
  size_t size() const { return size_; }
  Node* front() const { return static_cast<Node*>(nodes_.front()); }

  void PushBack(Node* node) {
    nodes_.PushBack(node);
    node->linked_ = true;
    ++size_;
  }

  // Unlinks `node`, which must be linked in this list.
  void Remove(Node* node) {
    nodes_.Unlink(node);
    node->linked_ = false;
    --size_;
  }

  Node* PopFront() {
    Node* n = front();
    if (n != nullptr) Remove(n);
    return n;
  }

 private:
  IntrusiveList<WaitNode, &WaitNode::link_> nodes_;
  size_t size_ = 0;
};

// Wakers collected under a lock and called when the batch is destroyed.
// Declare it before the MutexLock so that it outlives the lock:
//   WakeBatch wake;
//   MutexLock lock(&mu_);
class WakeBatch {
 public:
  WakeBatch() = default;
  WakeBatch(const WakeBatch&) = delete;
  WakeBatch& operator=(const WakeBatch&) = delete;
  ~WakeBatch() {
    for (Waker& w : wakers_) std::move(w).Wake();
  }

  void Add(WaitNode* node) {
    Waker w = node->TakeWaker();
    if (!w.empty()) wakers_.push_back(std::move(w));
  }

 private:
  absl::InlinedVector<Waker, 4> wakers_;
};

}  // namespace polyio::sync::internal

#endif  // POLYIO_RUNTIME_SYNC_WAIT_LIST_H_
