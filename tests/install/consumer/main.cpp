#include <ringwire/ringwire.hpp>

#include <cstdio>

int main() {
  auto [tx, rx] = ringwire::spsc::channel<int>(4);
  if (tx.try_send(42) != ringwire::status::ok) return 1;
  auto r = rx.try_recv();
  if (!r || *r != 42) return 2;
  std::puts("consumer ok");
  return 0;
}
