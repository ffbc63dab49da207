/* Threading helpers the Swift side cannot reach: cpu_set_t is manipulated
 * through macros, and the spin-wait hint is an instruction. */
#define _GNU_SOURCE
#include "bitnet_kernels.h"
#include <pthread.h>
#include <sched.h>

int bnk_pin_current_thread(int cpu) {
#if defined(__linux__)
    if (cpu < 0 || cpu >= CPU_SETSIZE) return -1;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
#else
    /* Darwin has no call that pins a thread to a core (its affinity tags
       are grouping hints): report failure, the thread runs unpinned. */
    (void)cpu;
    return -1;
#endif
}

void bnk_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}
