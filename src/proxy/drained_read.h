// A read on a plaintext TCP socket that remembers whether it drained the socket.
// Internal to the proxy module; included by tls_stream.h only.
//
// Asio's own async_read_some begins with a speculative recv() whenever the socket has
// had an event since its last operation, and with an edge-triggered epoll that is
// always, so a relay that reads a request, forwards it and reads again pays a recv()
// that fails with EAGAIN on every turn, in each direction. This operation reports a
// short read (fewer bytes than the buffer holds) to the reactor as "exhausted", the
// status Asio's send operation uses for a short write: the reactor then queues the
// next read without trying it first and performs it when epoll reports new data.
// That is safe because a short read took everything the kernel had queued, so any
// later data raises a new edge.
//
// This uses the reactor's internal operation interface (asio/detail), which Asio's
// own socket operations are written against; it is pinned by the Asio version of the
// build (checked below) and covered by every relay test.
#pragma once

#include <sys/socket.h>

#include <asio.hpp>
#include <cerrno>
#include <cstddef>
#include <utility>

#if ASIO_VERSION < 102200 || ASIO_VERSION >= 102300 || defined(ASIO_HAS_IO_URING_AS_DEFAULT) || \
    !defined(ASIO_HAS_EPOLL)
#error "drained_read.h is written against Asio 1.22's epoll reactor"
#endif

namespace pgveil::proxy::drained {

// The socket's reactor-level state (descriptor, flags, per-descriptor data), reached
// through a protected member of asio::basic_socket.
struct SocketAccess : asio::ip::tcp::socket {
  using Impl = asio::detail::reactive_socket_service_base::base_implementation_type;
  static Impl& Of(asio::ip::tcp::socket& s) {
    return (s.*&SocketAccess::impl_).get_implementation();
  }
};

template <typename Handler, typename IoExecutor>
class RecvOp : public asio::detail::reactor_op {
 public:
  ASIO_DEFINE_HANDLER_PTR(RecvOp);

  RecvOp(int fd, asio::mutable_buffer buffer, Handler& handler, const IoExecutor& io_ex)
      : reactor_op(asio::error_code(), &RecvOp::Perform, &RecvOp::Complete),
        fd_(fd),
        buffer_(buffer),
        handler_(std::move(handler)),
        work_(handler_, io_ex) {}

  static status Perform(reactor_op* base) {
    auto* o = static_cast<RecvOp*>(base);
    for (;;) {
      ssize_t n = ::recv(o->fd_, o->buffer_.data(), o->buffer_.size(), 0);
      if (n > 0) {
        o->bytes_transferred_ = static_cast<size_t>(n);
        return o->bytes_transferred_ < o->buffer_.size() ? done_and_exhausted : done;
      }
      if (n == 0) {
        o->ec_ = asio::error::eof;
        return done_and_exhausted;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return not_done;
      o->ec_ = asio::error_code(errno, asio::error::get_system_category());
      return done;
    }
  }

  static void Complete(void* owner, asio::detail::operation* base, const asio::error_code&,
                       std::size_t) {
    auto* o = static_cast<RecvOp*>(base);
    ptr p = {asio::detail::addressof(o->handler_), o, o};
    asio::detail::handler_work<Handler, IoExecutor> w(std::move(o->work_));
    // The handler moves out before the operation's memory is released: that memory
    // may belong to the handler (Asio's recycling allocator).
    asio::detail::binder2<Handler, asio::error_code, std::size_t> handler(o->handler_, o->ec_,
                                                                          o->bytes_transferred_);
    p.h = asio::detail::addressof(handler.handler_);
    p.reset();
    if (owner) {
      asio::detail::fenced_block b(asio::detail::fenced_block::half);
      w.complete(handler, handler.handler_);
    }
  }

 private:
  int fd_;
  asio::mutable_buffer buffer_;
  Handler handler_;
  asio::detail::handler_work<Handler, IoExecutor> work_;
};

// Cancellation of a queued read (the relay's `||` cancels the other direction).
class Cancel {
 public:
  Cancel(asio::detail::reactor* reactor, asio::detail::reactor::per_descriptor_data* data, int fd)
      : reactor_(reactor), data_(data), fd_(fd) {}
  void operator()(asio::cancellation_type_t type) {
    if (!!(type & (asio::cancellation_type::terminal | asio::cancellation_type::partial |
                   asio::cancellation_type::total))) {
      reactor_->cancel_ops_by_key(fd_, *data_, asio::detail::reactor::read_op, this);
    }
  }

 private:
  asio::detail::reactor* reactor_;
  asio::detail::reactor::per_descriptor_data* data_;
  int fd_;
};

struct Initiate {
  template <typename Handler>
  void operator()(Handler&& h, asio::ip::tcp::socket* socket, asio::detail::reactor* reactor,
                  asio::mutable_buffer buffer) const {
    using H = std::decay_t<Handler>;
    using Executor = asio::ip::tcp::socket::executor_type;
    using Op = RecvOp<H, Executor>;
    auto& impl = SocketAccess::Of(*socket);
    bool continuation = asio_handler_cont_helpers::is_continuation(h);
    auto slot = asio::get_associated_cancellation_slot(h);
    typename Op::ptr p = {asio::detail::addressof(h), Op::ptr::allocate(h), nullptr};
    p.p = new (p.v) Op(impl.socket_, buffer, h, socket->get_executor());
    if (slot.is_connected()) {
      p.p->cancellation_key_ =
          &slot.template emplace<Cancel>(reactor, &impl.reactor_data_, impl.socket_);
    }
    if (buffer.size() != 0 && ((impl.state_ & asio::detail::socket_ops::non_blocking) ||
                               asio::detail::socket_ops::set_internal_non_blocking(
                                   impl.socket_, impl.state_, true, p.p->ec_))) {
      reactor->start_op(asio::detail::reactor::read_op, impl.socket_, impl.reactor_data_, p.p,
                        continuation, /*allow_speculative=*/true);
    } else {
      reactor->post_immediate_completion(p.p, continuation);
    }
    p.v = p.p = nullptr;
  }
};

// Like socket.async_read_some(buffer, token), with the behaviour described above.
// `reactor` is the socket's execution context's reactor (ReactorOf).
template <typename Token>
auto AsyncReadSome(asio::ip::tcp::socket& socket, asio::detail::reactor& reactor,
                   asio::mutable_buffer buffer, Token&& token) {
  return asio::async_initiate<Token, void(asio::error_code, std::size_t)>(
      Initiate{}, token, &socket, &reactor, buffer);
}

inline asio::detail::reactor& ReactorOf(asio::ip::tcp::socket& socket) {
  return asio::use_service<asio::detail::reactor>(
      asio::query(socket.get_executor(), asio::execution::context));
}

// A TCP socket as the next layer of an asio::ssl::stream, reading as above: the TLS
// engine's reads of the socket then skip the same futile recv().
class Socket {
 public:
  using executor_type = asio::ip::tcp::socket::executor_type;
  using lowest_layer_type = asio::ip::tcp::socket::lowest_layer_type;

  explicit Socket(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {}

  asio::ip::tcp::socket& socket() { return socket_; }
  executor_type get_executor() { return socket_.get_executor(); }
  lowest_layer_type& lowest_layer() { return socket_.lowest_layer(); }
  const lowest_layer_type& lowest_layer() const { return socket_.lowest_layer(); }

  template <typename MutableBuffers, typename Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    if (reactor_ == nullptr) reactor_ = &ReactorOf(socket_);
    return AsyncReadSome(socket_, *reactor_, *asio::buffer_sequence_begin(buffers),
                         std::forward<Token>(token));
  }
  template <typename ConstBuffers, typename Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return socket_.async_write_some(buffers, std::forward<Token>(token));
  }

 private:
  asio::ip::tcp::socket socket_;
  asio::detail::reactor* reactor_ = nullptr;
};

}  // namespace pgveil::proxy::drained
