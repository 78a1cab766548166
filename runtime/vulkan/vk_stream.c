/*
** vk_stream.c — the command stream: ops record into a command buffer and
** return at once; a batch is submitted when it grows large or when the host
** needs data. A timeline semaphore numbers batches, so waiting for one
** result waits for just the batch that wrote it.
**
** Barriers: within a batch, a dispatch gets a barrier only when it reads
** something written since the last barrier, or writes something read or
** written since then (epochs on each allocation say which). Each batch
** starts with a barrier, which orders it after everything submitted before.
*/
#include "vk_device.h"

#include <stdlib.h>

#define BATCH_DISPATCHES 256
#define WAIT_TIMEOUT_NS (120ull * 1000000000ull)

static lx_status vk_fail(const char *what, VkResult r) {
  if (r == VK_ERROR_DEVICE_LOST)
    return lx_set_error(LX_ERR_DEVICE, "vulkan: the device was lost during %s", what);
  return lx_set_error(r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY
                          ? LX_ERR_MEMORY : LX_ERR_DEVICE,
                      "vulkan: %s failed: %s", what, lx_vk_result_name(r));
}

lx_status lx_vk_stream_init(lx_vk_device *d) {
  lx_vk_stream *s = &d->stream;
  VkSemaphoreTypeCreateInfo tci = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
                                   .semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE,
                                   .initialValue = 0};
  VkSemaphoreCreateInfo sci = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO, .pNext = &tci};
  VkResult r = vkCreateSemaphore(d->device, &sci, NULL, &s->timeline);
  if (r != VK_SUCCESS) return vk_fail("vkCreateSemaphore", r);
  VkCommandBufferAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                    .commandPool = d->pool,
                                    .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                    .commandBufferCount = 1};
  for (int i = 0; i < LX_VK_CMD_RING; i++) {
    if ((r = vkAllocateCommandBuffers(d->device, &ai, &s->ring[i].cb)) != VK_SUCCESS)
      return vk_fail("vkAllocateCommandBuffers", r);
    s->ring[i].serial = 0;
  }
  s->epoch = 1;
  return LX_OK;
}

uint64_t lx_vk_current_serial(const lx_vk_device *d) { return d->stream.submitted + 1; }

lx_status lx_vk_poll(lx_vk_device *d) {
  uint64_t value = 0;
  VkResult r = vkGetSemaphoreCounterValue(d->device, d->stream.timeline, &value);
  if (r != VK_SUCCESS) return vk_fail("vkGetSemaphoreCounterValue", r);
  if (value > d->stream.completed) d->stream.completed = value;
  return LX_OK;
}

static void full_barrier(VkCommandBuffer cb) {
  VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                        .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                                         VK_ACCESS_TRANSFER_READ_BIT |
                                         VK_ACCESS_TRANSFER_WRITE_BIT};
  VkPipelineStageFlags stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
  vkCmdPipelineBarrier(cb, stages, stages, 0, 1, &mb, 0, NULL, 0, NULL);
}

/* Opens a batch: a command buffer whose previous batch has completed. */
static lx_status begin_batch(lx_vk_device *d) {
  lx_vk_stream *s = &d->stream;
  if (s->recording) return LX_OK;
  lx_vk_cmd *slot = NULL;
  for (;;) {
    lx_status st = lx_vk_poll(d);
    if (st != LX_OK) return st;
    for (int i = 0; i < LX_VK_CMD_RING && !slot; i++)
      if (s->ring[i].serial <= s->completed) slot = &s->ring[i];
    if (slot) break;
    /* Every buffer is in flight: wait for the oldest batch. */
    if ((st = lx_vk_wait(d, s->completed + 1)) != LX_OK) return st;
  }
  VkResult r = vkResetCommandBuffer(slot->cb, 0);
  if (r != VK_SUCCESS) return vk_fail("vkResetCommandBuffer", r);
  VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                 .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
  if ((r = vkBeginCommandBuffer(slot->cb, &bi)) != VK_SUCCESS)
    return vk_fail("vkBeginCommandBuffer", r);
  slot->serial = s->submitted + 1;
  s->recording = slot;
  s->dispatches = 0;
  s->epoch++;
  full_barrier(slot->cb);
  return LX_OK;
}

/* Before a command that reads `reads` and writes `write`. */
static void order_access(lx_vk_device *d, lx_vk_alloc *const *reads, int nreads, lx_vk_alloc *write) {
  lx_vk_stream *s = &d->stream;
  bool need = write && (write->write_epoch == s->epoch || write->read_epoch == s->epoch);
  for (int i = 0; i < nreads && !need; i++) need = reads[i] && reads[i]->write_epoch == s->epoch;
  if (need) {
    full_barrier(s->recording->cb);
    s->epoch++;
  }
  uint64_t serial = s->recording->serial;
  for (int i = 0; i < nreads; i++) {
    if (!reads[i]) continue;
    reads[i]->read_epoch = s->epoch;
    reads[i]->last_use = serial;
  }
  if (write) {
    write->write_epoch = s->epoch;
    write->last_use = write->last_write = serial;
  }
}

lx_status lx_vk_record_dispatch(lx_vk_device *d, VkPipeline pipeline, int nbindings,
                                lx_vk_alloc *const *bindings, const void *push,
                                uint32_t push_size, uint32_t groups) {
  lx_status st = begin_batch(d);
  if (st != LX_OK) return st;
  VkCommandBuffer cb = d->stream.recording->cb;
  order_access(d, bindings + 1, nbindings - 1, bindings[0]);
  VkDescriptorBufferInfo infos[4];
  VkWriteDescriptorSet writes[4];
  for (int i = 0; i < nbindings; i++) {
    infos[i] = (VkDescriptorBufferInfo){bindings[i]->block->buffer, bindings[i]->offset,
                                        bindings[i]->size};
    writes[i] = (VkWriteDescriptorSet){.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                                       .dstBinding = (uint32_t)i, .descriptorCount = 1,
                                       .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                       .pBufferInfo = &infos[i]};
  }
  vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
  vkCmdPushDescriptorSetKHR(cb, VK_PIPELINE_BIND_POINT_COMPUTE, d->pipeline_layout, 0,
                            (uint32_t)nbindings, writes);
  vkCmdPushConstants(cb, d->pipeline_layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_size, push);
  vkCmdDispatch(cb, groups, 1, 1);
  if (++d->stream.dispatches >= BATCH_DISPATCHES) return lx_vk_submit(d);
  return LX_OK;
}

lx_status lx_vk_record_copy(lx_vk_device *d, VkBuffer src, VkDeviceSize src_offset,
                            VkBuffer dst, VkDeviceSize dst_offset, VkDeviceSize size,
                            lx_vk_alloc *read, lx_vk_alloc *written) {
  lx_status st = begin_batch(d);
  if (st != LX_OK) return st;
  /* Staging is not tracked by epochs: always order a copy. */
  full_barrier(d->stream.recording->cb);
  d->stream.epoch++;
  order_access(d, &read, 1, written);
  VkBufferCopy region = {src_offset, dst_offset, size};
  vkCmdCopyBuffer(d->stream.recording->cb, src, dst, 1, &region);
  full_barrier(d->stream.recording->cb);
  d->stream.epoch++;
  return LX_OK;
}

lx_status lx_vk_submit(lx_vk_device *d) {
  lx_vk_stream *s = &d->stream;
  if (!s->recording) return LX_OK;
  VkCommandBuffer cb = s->recording->cb;
  s->recording = NULL;
  VkResult r = vkEndCommandBuffer(cb);
  if (r != VK_SUCCESS) return vk_fail("vkEndCommandBuffer", r);
  uint64_t value = s->submitted + 1;
  VkTimelineSemaphoreSubmitInfo tsi = {.sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
                                       .signalSemaphoreValueCount = 1,
                                       .pSignalSemaphoreValues = &value};
  VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .pNext = &tsi,
                     .commandBufferCount = 1, .pCommandBuffers = &cb,
                     .signalSemaphoreCount = 1, .pSignalSemaphores = &s->timeline};
  if ((r = vkQueueSubmit(d->queue, 1, &si, VK_NULL_HANDLE)) != VK_SUCCESS)
    return vk_fail("vkQueueSubmit", r);
  s->submitted = value;
  return LX_OK;
}

lx_status lx_vk_wait(lx_vk_device *d, uint64_t serial) {
  lx_vk_stream *s = &d->stream;
  if (serial <= s->completed) return LX_OK;
  if (serial > s->submitted) {
    lx_status st = lx_vk_submit(d);
    if (st != LX_OK) return st;
    if (serial > s->submitted) return LX_OK; /* nothing recorded for it */
  }
  VkSemaphoreWaitInfo wi = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
                            .semaphoreCount = 1, .pSemaphores = &s->timeline,
                            .pValues = &serial};
  /* A bounded wait: a hung GPU becomes an error, not a hang. */
  VkResult r = vkWaitSemaphores(d->device, &wi, WAIT_TIMEOUT_NS);
  if (r == VK_TIMEOUT)
    return lx_set_error(LX_ERR_DEVICE, "vulkan: timed out after %llu s waiting for %s",
                        WAIT_TIMEOUT_NS / 1000000000ull, d->phys->name);
  if (r != VK_SUCCESS) return vk_fail("vkWaitSemaphores", r);
  if (serial > s->completed) s->completed = serial;
  return LX_OK;
}
