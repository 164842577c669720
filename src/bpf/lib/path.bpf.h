/*
 * The absolute path of a file, walked in the kernel from its dentry and
 * mount up to the root of the mount tree, for the kernel halves that name
 * files (process: the image and the working directory; file; imageload).
 * Included after vmlinux.h, <bpf/bpf_helpers.h> and <bpf/bpf_core_read.h>.
 *
 * A walk takes two passes: up the tree, collecting the names of at most
 * PATH_WALK_DEPTH components (the deepest that fit in the most a path may
 * take: a cut path loses its beginning, and the walk says it is partial),
 * and down again, writing "/name" for each into the caller's buffer.  Its
 * state lives in a map value, not on the stack, so that the verifier sees
 * it as unknown and checks each step once instead of following every
 * possible offset.  The steps run under bpf_loop, or as bounded loops for
 * kernels without it (before 5.17).
 *
 * A source defines its walker with PATH_WALKER(); after a walk,
 * path_walk_partial() says whether the path's beginning is missing.
 */
#ifndef SYSMON_BPF_LIB_PATH_BPF_H
#define SYSMON_BPF_LIB_PATH_BPF_H

#define PATH_WALK_DEPTH 64      /* components followed (power of two) */
/* Steps up the tree: mount crossings take steps too, hence the margin. */
#define PATH_WALK_STEPS (PATH_WALK_DEPTH + 16)

/* A name collected on the way up, written out on the way down. */
struct path_component {
	const unsigned char *name;
	__u32 len;
	__u32 reserved;
};

/* State of one walk (in the walker's map value: see PATH_WALKER). */
struct path_walk {
	__u32 depth;            /* components collected */
	__u32 off;              /* write position in the data */
	__u32 start;            /* where this path starts in the data */
	__u32 length;           /* bytes the collected components will take */
	int complete;           /* reached the root */
	int overflow;           /* longer than the most a path may take */
	int pseudo;             /* the file is the root of an unmounted file system */
	struct dentry *dentry;
	struct mount *mnt;
	struct dentry *mnt_root;  /* mnt's root: where to cross to the parent mount */
	struct path_component components[PATH_WALK_DEPTH];
};

/* Start WALK at (DENTRY, VFSMNT), its path to be written at OFF. */
static __always_inline void path_walk_begin(struct path_walk *walk, __u32 off, struct dentry *dentry,
					    struct vfsmount *vfsmnt)
{
	walk->depth = 0;
	walk->length = 0;
	walk->off = off;
	walk->start = off;
	walk->complete = 0;
	walk->overflow = 0;
	walk->pseudo = 0;
	walk->dentry = dentry;
	walk->mnt = (void *)vfsmnt - bpf_core_field_offset(struct mount, mnt);
	walk->mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
}

/* One step up the tree: collect a component, or cross a mount point.
 * Returns nonzero when the walk up is over.  PATH_MAX: the most the path
 * may take.  PSEUDO_NAMES: a file that is itself the root of a file system
 * that is not mounted (a memfd) has only its name, which the kernel shows
 * as "/NAME (deleted)": take the name (user space adds the rest); else its
 * path is "/". */
static __always_inline long path_walk_collect(struct path_walk *walk, __u32 path_max, bool pseudo_names)
{
	struct dentry *dentry = walk->dentry;
	struct mount *mnt = walk->mnt;

	if (dentry == walk->mnt_root) {
		struct mount *mnt_parent = BPF_CORE_READ(mnt, mnt_parent);

		if (!mnt_parent || mnt_parent == mnt) {
			walk->complete = 1;
			return 1;
		}
		walk->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		walk->mnt = mnt_parent;
		walk->mnt_root = BPF_CORE_READ(mnt_parent, mnt.mnt_root);
		return 0;
	}
	struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
	__u32 depth = walk->depth;
	if (!parent || parent == dentry) {
		/* the root of a file system that is not mounted */
		walk->complete = 1;
		if (!pseudo_names || depth != 0)
			return 1;
		walk->pseudo = 1;
	}
	/* keep the deepest components that fit: a cut path loses its start */
	struct path_component *component = &walk->components[depth & (PATH_WALK_DEPTH - 1)];
	struct qstr name;
	if (depth >= PATH_WALK_DEPTH || bpf_core_read(&name, sizeof(name), &dentry->d_name) != 0)
		return 1;
	__u32 len = name.len > 255 ? 255 : name.len;
	if (walk->length + 1 + len > path_max)
		return 1;
	component->name = name.name;
	component->len = len;
	walk->length += 1 + len;
	walk->depth = depth + 1;
	walk->dentry = parent;
	return walk->pseudo ? 1 : 0;   /* a pseudo file has no parent to walk */
}

/* Append "/name" of the INDEX-th component from the top to DATA (offsets
 * masked with DATA_MASK).  Returns nonzero when the walk down is over. */
static __always_inline long path_walk_append(struct path_walk *walk, __u64 index, char *data,
					     __u32 data_mask, __u32 path_max)
{
	__u32 depth = walk->depth;
	if (index >= depth)
		return 1;
	struct path_component *component = &walk->components[(depth - 1 - index) & (PATH_WALK_DEPTH - 1)];
	__u32 len = component->len & 255;
	const unsigned char *name = component->name;
	__u32 off = walk->off;

	if (off - walk->start + 1 + len > path_max) {
		walk->overflow = 1;
		return 1;
	}
	data[off & data_mask] = '/';
	off++;
	if (bpf_probe_read_kernel(&data[off & data_mask], len & 255, name) != 0)
		return 1;
	walk->off = off + len;
	return 0;
}

/* Is the beginning of the path just walked missing? */
static __always_inline bool path_walk_partial(const struct path_walk *walk)
{
	return !walk->complete || walk->overflow;
}

/*
 * Define NAME(s, key, off, dentry, vfsmnt, bounded_loops): append the
 * absolute path of (DENTRY, VFSMNT) to s->data at OFF, and return the new
 * offset; S is MAP's value at KEY.  MAP is the source's scratch map (an
 * array: one value per CPU, or per-CPU values), whose value holds
 * `char data[]`, where offsets are masked with DATA_MASK (and 256 bytes past
 * DATA_MASK are the value's too, for the last name copied), and
 * `struct path_walk walk`.  A path takes PATH_MAX bytes at the most;
 * PSEUDO_NAMES: see path_walk_collect().  BOUNDED_LOOPS: walk without
 * bpf_loop.
 */
#define PATH_WALKER(name, map, data_mask, path_max, pseudo_names)                                     \
	static long name##_collect(__u64 index, void *key)                                           \
	{                                                                                             \
		__typeof__(*(map).value) *s = bpf_map_lookup_elem(&(map), key);                       \
                                                                                                      \
		return s ? path_walk_collect(&s->walk, (path_max), (pseudo_names)) : 1;               \
	}                                                                                             \
	static long name##_append(__u64 index, void *key)                                            \
	{                                                                                             \
		__typeof__(*(map).value) *s = bpf_map_lookup_elem(&(map), key);                       \
                                                                                                      \
		return s ? path_walk_append(&s->walk, index, s->data, (data_mask), (path_max)) : 1;   \
	}                                                                                             \
	static __always_inline __u32 name(__typeof__(*(map).value) *s, __u32 *key, __u32 off,       \
					  struct dentry *dentry, struct vfsmount *vfsmnt,            \
					  bool bounded_loops)                                        \
	{                                                                                             \
		path_walk_begin(&s->walk, off, dentry, vfsmnt);                                       \
		if (bounded_loops) {                                                                  \
			for (__u32 i = 0; i < PATH_WALK_STEPS; i++)                                   \
				if (name##_collect(i, key))                                           \
					break;                                                        \
		} else {                                                                              \
			bpf_loop(PATH_WALK_STEPS, name##_collect, key, 0);                            \
		}                                                                                     \
		if (s->walk.depth == 0) {                                                             \
			s->data[off & (data_mask)] = '/';                                             \
			s->walk.off = off + 1;                                                        \
		} else if (bounded_loops) {                                                           \
			for (__u32 i = 0; i < PATH_WALK_DEPTH; i++)                                   \
				if (name##_append(i, key))                                            \
					break;                                                        \
		} else {                                                                              \
			bpf_loop(PATH_WALK_DEPTH, name##_append, key, 0);                             \
		}                                                                                     \
		return s->walk.off;                                                                   \
	}

#endif
