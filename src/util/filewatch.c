/*
 * Noticing that a file changed, cheaply (see filewatch.h).
 */
#include "util/filewatch.h"

#include <time.h>

#include "util/clock.h"

bool file_watch_changed(struct file_watch *w)
{
	int64_t now = clock_ns(CLOCK_MONOTONIC_COARSE);

	if (w->checked && now - w->checked_ns < w->interval_ns)
		return false;
	w->checked_ns = now;
	w->checked = true;

	struct stat st;

	if (stat(w->path, &st) != 0)
		st = (struct stat){ 0 };
	if (st.st_ino == w->seen.st_ino && st.st_size == w->seen.st_size &&
	    st.st_mtim.tv_sec == w->seen.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == w->seen.st_mtim.tv_nsec)
		return false;
	w->seen = st;
	return true;
}
