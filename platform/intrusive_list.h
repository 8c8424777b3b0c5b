// IntrusiveList<T, &T::link>: a doubly linked FIFO of objects that carry
// their own links (a ListLink<T> member).
//
// The one list type of polyio's hot structures: operations parked on an fd
// (backends/readiness), the waiters of a sync primitive, the entries of a
// timer-wheel slot, a scheduler's live tasks. O(1) push, pop and unlink
// from anywhere, no allocation: the object is the node, and it must not
// move while linked. An object is in at most one list per ListLink member.
//
// The run queues (runtime/task/runnable.h) are the one exception, kept
// singly linked: they are pushed and popped on every wake and never unlink
// from the middle, so a second pointer per task and per callback would buy
// nothing.
//
// Thread-hostile: its owner locks if it needs to.
#ifndef POLYIO_PLATFORM_INTRUSIVE_LIST_H_
#define POLYIO_PLATFORM_INTRUSIVE_LIST_H_

namespace polyio {

template <class T>
struct ListLink {
  T* prev = nullptr;
  T* next = nullptr;
};

template <class T, ListLink<T> T::*kLink>
class IntrusiveList {
 public:
  IntrusiveList() = default;
  IntrusiveList(const IntrusiveList&) = delete;
  IntrusiveList& operator=(const IntrusiveList&) = delete;
  // Moving takes the elements along (they do not move).
  IntrusiveList(IntrusiveList&& other) noexcept
      : head_(other.head_), tail_(other.tail_) {
    other.head_ = other.tail_ = nullptr;
  }
  IntrusiveList& operator=(IntrusiveList&& other) noexcept {
    head_ = other.head_;
    tail_ = other.tail_;
    other.head_ = other.tail_ = nullptr;
    return *this;
  }

  bool empty() const { return head_ == nullptr; }
  T* front() const { return head_; }
  // The element after `t` in its list, or null.
  static T* next(const T* t) { return (t->*kLink).next; }

  void PushBack(T* t) {
    ListLink<T>& link = t->*kLink;
    link.next = nullptr;
    link.prev = tail_;
    if (tail_ != nullptr) {
      (tail_->*kLink).next = t;
    } else {
      head_ = t;
    }
    tail_ = t;
  }

  T* PopFront() {
    T* t = head_;
    if (t != nullptr) Unlink(t);
    return t;
  }

  // `t` must be in this list.
  void Unlink(T* t) {
    ListLink<T>& link = t->*kLink;
    if (link.prev != nullptr) {
      (link.prev->*kLink).next = link.next;
    } else {
      head_ = link.next;
    }
    if (link.next != nullptr) {
      (link.next->*kLink).prev = link.prev;
    } else {
      tail_ = link.prev;
    }
    link.prev = link.next = nullptr;
  }

  // Moves every element of `other` to the back of this list.
  void Splice(IntrusiveList& other) {
    if (other.empty()) return;
    if (empty()) {
      head_ = other.head_;
    } else {
      (tail_->*kLink).next = other.head_;
      (other.head_->*kLink).prev = tail_;
    }
    tail_ = other.tail_;
    other.head_ = other.tail_ = nullptr;
  }

 private:
  T* head_ = nullptr;
  T* tail_ = nullptr;
};

}  // namespace polyio

#endif  // POLYIO_PLATFORM_INTRUSIVE_LIST_H_
