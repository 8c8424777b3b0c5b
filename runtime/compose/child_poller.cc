#include "runtime/compose/child_poller.h"

#include <utility>

namespace polyio::internal {

const WakerVTable ReadySet::kVTable = {
    /*clone=*/
    [](void* data) -> void* {
      static_cast<Node*>(data)->set->Ref();
      return data;
    },
    /*wake=*/
    [](void* data) {
      auto* node = static_cast<Node*>(data);
      ReadySet* set = node->set;
      set->Wake(node);
      set->Unref();
    },
    /*wake_by_ref=*/
    [](void* data) {
      auto* node = static_cast<Node*>(data);
      node->set->Wake(node);
    },
    /*drop=*/
    [](void* data) { static_cast<Node*>(data)->set->Unref(); },
};

ReadySet::ReadySet(uint32_t children) : nodes_(new Node[children]) {
  ready_.reserve(children);
  for (uint32_t i = 0; i < children; ++i) {
    nodes_[i].set = this;
    nodes_[i].index = i;
    ready_.push_back(i);
  }
}

void ReadySet::TakeReady(const Waker& waker, std::vector<uint32_t>* batch) {
  MutexLock lock(&mu_);
  if (!task_waker_.WillWake(waker)) task_waker_ = waker;
  batch->swap(ready_);
}

void ReadySet::Detach() {
  Waker dropped;
  {
    MutexLock lock(&mu_);
    dropped = std::move(task_waker_);
  }
}

Waker ReadySet::ChildWaker(uint32_t i) {
  Ref();
  return Waker(&nodes_[i], &kVTable);
}

void ReadySet::Wake(Node* node) {
  if (node->queued.exchange(true, std::memory_order_acq_rel)) return;
  // Woken outside the lock: waking schedules the task, which may take the
  // executor's locks.
  Waker task;
  {
    MutexLock lock(&mu_);
    ready_.push_back(node->index);
    task = task_waker_;
  }
  std::move(task).Wake();
}

ChildPoller::ChildPoller(size_t children)
    : set_(new ReadySet(static_cast<uint32_t>(children))),
      done_(children, false),
      remaining_(children) {
  batch_.reserve(children);
}

ChildPoller::ChildPoller(ChildPoller&& other) noexcept
    : set_(std::exchange(other.set_, nullptr)),
      done_(std::move(other.done_)),
      batch_(std::move(other.batch_)),
      remaining_(other.remaining_),
      cancel_children_(other.cancel_children_),
      saw_task_cancel_(other.saw_task_cancel_),
      exception_(std::move(other.exception_)) {}

ChildPoller::~ChildPoller() {
  if (set_ == nullptr) return;
  set_->Detach();
  set_->Unref();
}

void ChildPoller::CancelRemaining() {
  if (cancel_children_) return;
  cancel_children_ = true;
  QueueAllUnfinished();
}

void ChildPoller::QueueAllUnfinished() {
  for (uint32_t i = 0; i < done_.size(); ++i) {
    if (!done_[i] && set_->MarkQueued(i)) batch_.push_back(i);
  }
}

}  // namespace polyio::internal
