// The FIFO queue of generations: order, a bounded queue, places given up.

#include "server/generation_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace sieve::server {
namespace {

using namespace std::chrono_literals;

TEST(GenerationQueue, ServesInArrivalOrder) {
  GenerationQueue queue(16);
  std::optional<GenerationQueue::Ticket> first = queue.take();
  ASSERT_TRUE(first && first->wait_turn({}, 10ms));
  EXPECT_TRUE(queue.running());

  std::mutex mutex;
  std::vector<int> order;
  std::vector<std::thread> threads;
  for (int i = 0; i < 5; ++i) {
    std::optional<GenerationQueue::Ticket> t = queue.take();  // taken here, in order
    ASSERT_TRUE(t);
    threads.emplace_back([&, i, ticket = std::move(*t)]() mutable {
      ASSERT_TRUE(ticket.wait_turn({}, 5ms));
      std::lock_guard lock(mutex);
      order.push_back(i);
    });
  }
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(queue.waiting(), 5u);
  first.reset();  // hands the turn on
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_FALSE(queue.running());
  EXPECT_EQ(queue.waiting(), 0u);
}

TEST(GenerationQueue, RefusesBeyondMaxWaiting) {
  GenerationQueue queue(2);
  std::optional<GenerationQueue::Ticket> running = queue.take();
  ASSERT_TRUE(running->wait_turn({}, 1ms));
  std::optional<GenerationQueue::Ticket> a = queue.take();
  std::optional<GenerationQueue::Ticket> b = queue.take();
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(queue.take());
  a.reset();  // gives up its place: room for one more
  EXPECT_TRUE(queue.take());
}

TEST(GenerationQueue, NoWaitingStillRunsOne) {
  GenerationQueue queue(0);  // --max-waiting 0: one at a time, the others refused
  std::optional<GenerationQueue::Ticket> running = queue.take();
  ASSERT_TRUE(running);
  ASSERT_TRUE(running->wait_turn({}, 1ms));
  EXPECT_FALSE(queue.take());
  running.reset();
  EXPECT_TRUE(queue.take());
}

TEST(GenerationQueue, APlaceGivenUpIsSkipped) {
  GenerationQueue queue(8);
  std::optional<GenerationQueue::Ticket> running = queue.take();
  ASSERT_TRUE(running->wait_turn({}, 1ms));
  std::optional<GenerationQueue::Ticket> leaving = queue.take();
  std::optional<GenerationQueue::Ticket> staying = queue.take();
  std::atomic<int> polls{0};
  // The client of `leaving` is gone: its wait ends without a turn.
  EXPECT_FALSE(leaving->wait_turn([&] { return ++polls < 3; }, 1ms));
  EXPECT_EQ(polls.load(), 3);
  leaving.reset();
  running.reset();
  EXPECT_TRUE(staying->wait_turn({}, 1ms));  // next in line, not stuck behind the one that left
}

}  // namespace
}  // namespace sieve::server
