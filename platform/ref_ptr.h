// RefPtr<T>: an owning pointer to an intrusively reference-counted T.
//
// T provides Ref() and Unref() (Unref frees it when the count reaches
// zero). One word, no control block: what a future that shares its
// stream's state carries (runtime/io/fd_handle.h).
//
// RefPtr::Adopt(p) takes over a reference the caller already holds (a new
// object starts with one); RefPtr(p) takes a new one.
//
// Thread-safety: as thread-safe as T's Ref/Unref; one RefPtr object is
// thread-compatible.
#ifndef POLYIO_PLATFORM_REF_PTR_H_
#define POLYIO_PLATFORM_REF_PTR_H_

#include <cstddef>
#include <utility>

namespace polyio {

template <class T>
class RefPtr {
 public:
  RefPtr() = default;
  RefPtr(std::nullptr_t) {}  // NOLINT: implicit, like a pointer
  explicit RefPtr(T* p) : p_(p) {
    if (p_ != nullptr) p_->Ref();
  }
  static RefPtr Adopt(T* p) {
    RefPtr r;
    r.p_ = p;
    return r;
  }

  RefPtr(const RefPtr& other) : RefPtr(other.p_) {}
  RefPtr(RefPtr&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
  RefPtr& operator=(RefPtr other) noexcept {
    std::swap(p_, other.p_);
    return *this;
  }
  ~RefPtr() {
    if (p_ != nullptr) p_->Unref();
  }

  T* get() const { return p_; }
  T* operator->() const { return p_; }
  T& operator*() const { return *p_; }
  explicit operator bool() const { return p_ != nullptr; }

 private:
  T* p_ = nullptr;
};

}  // namespace polyio

#endif  // POLYIO_PLATFORM_REF_PTR_H_
