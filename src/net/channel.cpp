#include "net/channel.hpp"

namespace ringgate::net {

void Channel::reset() noexcept {
  transport_.reset();
  ktls_wanted = false;
  kernel_tls = false;
  out_.clear();
  wire_next_.clear();
  wire_.clear();
  offset_ = 0;
  plain_in_.clear();
  app_bytes_moved_ = 0;
}

bool Channel::next_send(const char*& data, size_t& len, bool include_app) noexcept {
  if (offset_ >= wire_.size()) {
    wire_.clear();
    offset_ = 0;
    if (transport_ != nullptr) {
      if (include_app && !out_.empty()) {
        app_bytes_moved_ += out_.size();
        const IoResult r = transport_->encode(out_.data(), out_.size(), wire_next_);
        out_.clear();
        if (r.status == IoStatus::kError) return false;
      }
      wire_.swap(wire_next_);
    } else if (wire_next_.empty()) {
      app_bytes_moved_ += out_.size();
      wire_.swap(out_);
    } else {
      // Plain transport after a handshake-less start never queues wire bytes,
      // but keep the order right if it does.
      wire_.swap(wire_next_);
      wire_.append(out_);
      app_bytes_moved_ += out_.size();
      out_.clear();
    }
  }
  data = wire_.data() + offset_;
  len = wire_.size() - offset_;
  return true;
}

void Channel::exchange_storage(std::string& out, std::string& wire) noexcept {
  out_.clear();
  wire_.clear();
  offset_ = 0;
  out_.swap(out);
  wire_.swap(wire);
}

void Channel::trim(size_t keep) noexcept {
  if (out_.capacity() > keep) std::string().swap(out_);
  if (wire_.capacity() > keep) std::string().swap(wire_);
  if (wire_next_.capacity() > keep) std::string().swap(wire_next_);
  if (plain_in_.capacity() > keep) std::string().swap(plain_in_);
}

}  // namespace ringgate::net
