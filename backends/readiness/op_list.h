// OpList: an intrusive FIFO of Operations, linked through their link_* fields.
//
// O(1) push, pop and unlink with no allocation, which is how the readiness
// backends park operations on an fd (invariant 3 of backends/backend.h).
// An Operation is in at most one OpList at a time. Thread-hostile.
#ifndef POLYIO_BACKENDS_READINESS_OP_LIST_H_
#define POLYIO_BACKENDS_READINESS_OP_LIST_H_

#include "backends/operation.h"

namespace polyio {

class OpList {
 public:
  bool empty() const { return head_ == nullptr; }
  Operation* front() const { return head_; }

  void PushBack(Operation* op) {
    op->link_next = nullptr;
    op->link_prev = tail_;
    if (tail_ != nullptr) {
      tail_->link_next = op;
    } else {
      head_ = op;
    }
    tail_ = op;
  }

  Operation* PopFront() {
    Operation* op = head_;
    if (op != nullptr) Unlink(op);
    return op;
  }

  void Unlink(Operation* op) {
    if (op->link_prev != nullptr) {
      op->link_prev->link_next = op->link_next;
    } else {
      head_ = op->link_next;
    }
    if (op->link_next != nullptr) {
      op->link_next->link_prev = op->link_prev;
    } else {
      tail_ = op->link_prev;
    }
    op->link_next = op->link_prev = nullptr;
  }

  // Moves every operation of `other` to the back of this list.
  void Splice(OpList& other) {
    if (other.empty()) return;
    if (empty()) {
      head_ = other.head_;
    } else {
      tail_->link_next = other.head_;
      other.head_->link_prev = tail_;
    }
    tail_ = other.tail_;
    other.head_ = other.tail_ = nullptr;
  }

 private:
  Operation* head_ = nullptr;
  Operation* tail_ = nullptr;
};

}  // namespace polyio

#endif  // POLYIO_BACKENDS_READINESS_OP_LIST_H_
