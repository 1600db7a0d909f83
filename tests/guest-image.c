/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests/guest-image.c — the test guest's initramfs: busybox, the virtio modules and an /init
 * that serves the test's commands on ttyS0, built once per test run (guest.h). */
#include "config.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "guest.h"
#include "guest-private.h"

#define IMAGE_ENV "SVC_TEST_GUEST_IMAGE"
#define BOOT_DIR "/boot"
#define MODULES_DIR "/lib/modules"
/* The console is the control line; "quiet" keeps the boot short, and a guest that panics
 * reboots at once, which ends QEMU (-no-reboot).  A vCPU that the host leaves waiting (TCG
 * on a busy machine) misses timer ticks: the kernel's boot-time check of the timer interrupt
 * then fails ("MP-BIOS bug: 8254 timer not connected to IO-APIC", seen here under a CPU
 * quota), and where its fallbacks fail as well it panics ("IO-APIC + timer doesn't work!");
 * no_timer_check skips that check.  nowatchdog: the soft-lockup detector would report the
 * host's waits, at a level that reaches the control line. */
#define CMDLINE "console=ttyS0 quiet panic=-1 no_timer_check nowatchdog"

/* What a guest needs for hot-plugged virtio-serial ports, dependencies aside. */
static const char *const wanted_modules[] = { "virtio_pci", "virtio_console", NULL };

/* The guest's PID 1.  Each line the test sends is "ID COMMAND"; the answer is
 * "BEGIN ID", what the command wrote, and "\nEND ID STATUS".  Commands run in a subshell, so
 * that neither a syntax error nor an exit ends the loop. */
static const char init_script[] =
    "#!/bin/busybox sh\n"
    "/bin/busybox --install -s /bin\n"
    "export PATH=/bin\n"
    "mount -t proc proc /proc\n"
    "mount -t sysfs sysfs /sys\n"
    "mount -t devtmpfs devtmpfs /dev\n"
    "for m in $(cat /modules); do\n"
    "    insmod /lib/modules/$m || { echo \"cannot load $m\"; poweroff -f; }\n"
    "done\n"
    /* Kernel messages would land in the middle of the commands' output. */
    "dmesg -n 1\n"
    "exec </dev/ttyS0 >/dev/ttyS0 2>&1\n"
    "stty raw -echo\n"
    /* port_dev NAME: the /dev node of the virtio port called NAME. */
    "port_dev() {\n"
    "    for f in /sys/class/virtio-ports/*/name; do\n"
    "        [ -r \"$f\" ] && read -r n <\"$f\" && [ \"$n\" = \"$1\" ] || continue\n"
    "        d=${f%/name}\n"
    "        echo \"/dev/${d##*/}\"\n"
    "        return 0\n"
    "    done\n"
    "    return 1\n"
    "}\n"
    /* wait_port NAME present|absent SECONDS: busybox has nothing that waits for sysfs, so
     * look every 20 ms. */
    "wait_port() {\n"
    "    read -r up rest </proc/uptime\n"
    "    end=$((${up%.*} + $3))\n"
    "    while :; do\n"
    "        if port_dev \"$1\" >/dev/null; then\n"
    "            [ \"$2\" = present ] && { port_dev \"$1\"; return 0; }\n"
    "        else\n"
    "            [ \"$2\" = absent ] && return 0\n"
    "        fi\n"
    "        read -r up rest </proc/uptime\n"
    "        [ \"${up%.*}\" -lt \"$end\" ] || { echo \"port $1 not $2 after $3 s\"; return 1; }\n"
    "        usleep 20000\n"
    "    done\n"
    "}\n"
    /* exchange DEV SECONDS: one open for both ways; a console is a tty, made raw first. */
    "exchange() {\n"
    "    exec 3<>\"$1\" || return 1\n"
    "    case $1 in /dev/hvc*) stty raw -echo <&3 || return 1 ;; esac\n"
    "    cat /pattern >&3 || return 1\n"
    "    timeout \"$2\" head -c " G_STRINGIFY(GUEST_PATTERN_LEN) " <&3 | od -An -v -tx1\n"
    "}\n"
    "echo " GUEST_READY "\n"
    "while IFS= read -r line; do\n"
    "    id=${line%% *}\n"
    "    echo \"" GUEST_BEGIN " $id\"\n"
    "    (eval \"${line#* }\") </dev/null\n"
    "    printf '\\n" GUEST_END " %s %d\\n' \"$id\" \"$?\"\n"
    "done\n";

GBytes *
guest_pattern(void)
{
    guint8 bytes[GUEST_PATTERN_LEN];

    for (guint i = 0; i < GUEST_PATTERN_LEN; i++)
        bytes[i] = i;
    return g_bytes_new(bytes, sizeof(bytes));
}

/* The newest /boot/vmlinuz-VERSION that has its /lib/modules/VERSION. */
static char *
find_kernel_version(void)
{
    g_autoptr(GDir) dir = g_dir_open(BOOT_DIR, 0, NULL);
    char *best = NULL;
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        const char *version = name + strlen("vmlinuz-");
        g_autofree char *kernel = NULL, *dep = NULL;

        if (!g_str_has_prefix(name, "vmlinuz-"))
            continue;
        kernel = g_build_filename(BOOT_DIR, name, NULL);
        dep = g_build_filename(MODULES_DIR, version, "modules.dep", NULL);
        if (access(kernel, R_OK) != 0 || !g_file_test(dep, G_FILE_TEST_IS_REGULAR))
            continue;
        if (!best || strverscmp(version, best) > 0) {
            g_free(best);
            best = g_strdup(version);
        }
    }
    return best;
}

/* An ELF executable without a program interpreter runs alone in an initramfs; a dynamically
 * linked busybox (Debian's "busybox", not "busybox-static") does not. */
static gboolean
is_static_executable(const char *path)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    Elf64_Ehdr eh;

    if (!g_file_get_contents(path, &data, &len, NULL) || len < sizeof(eh))
        return FALSE;
    memcpy(&eh, data, sizeof(eh));
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > len ||
        eh.e_phnum > (len - eh.e_phoff) / sizeof(Elf64_Phdr))
        return FALSE;
    for (guint i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;

        memcpy(&ph, data + eh.e_phoff + i * sizeof(ph), sizeof(ph));
        if (ph.p_type == PT_INTERP)
            return FALSE;
    }
    return TRUE;
}

/* "kernel/drivers/virtio/virtio_pci.ko.xz" → "virtio_pci", as modprobe names modules. */
static char *
module_name(const char *path)
{
    char *name = g_path_get_basename(path);
    char *dot = strchr(name, '.');

    if (dot)
        *dot = '\0';
    return g_strdelimit(name, "-", '_');
}

/* @moddir/@file's lines as words; NULL when it cannot be read. */
static GPtrArray *
read_module_lines(const char *moddir, const char *file, GError **error)
{
    g_autofree char *path = g_build_filename(moddir, file, NULL);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    GPtrArray *result;

    if (!g_file_get_contents(path, &text, NULL, error))
        return NULL;
    lines = g_strsplit(text, "\n", -1);
    result = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) fields = g_strsplit_set(lines[i], ": \t", -1);
        g_autoptr(GStrvBuilder) words = g_strv_builder_new();

        gboolean empty = TRUE;

        for (guint j = 0; fields[j]; j++) {
            if (*fields[j]) {
                g_strv_builder_add(words, fields[j]);
                empty = FALSE;
            }
        }
        if (!empty)
            g_ptr_array_add(result, g_strv_builder_end(words));
    }
    return result;
}

/* The files of @wanted_modules and their dependencies, relative to @moddir, in the order
 * modprobe loads them: a modules.dep line is "module: deps…", the last dependency first. */
static GPtrArray *
resolve_modules(const char *moddir, GError **error)
{
    g_autoptr(GPtrArray) deps = read_module_lines(moddir, "modules.dep", error);
    g_autoptr(GPtrArray) builtin = read_module_lines(moddir, "modules.builtin", NULL);
    g_autoptr(GHashTable) by_name = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);

    if (!deps)
        return NULL;
    for (guint i = 0; i < deps->len; i++) {
        char **line = deps->pdata[i];

        g_hash_table_replace(by_name, module_name(line[0]), line);
    }
    for (guint i = 0; builtin && i < builtin->len; i++) {
        char *name = module_name(*(char **)builtin->pdata[i]);

        if (g_hash_table_contains(by_name, name))
            g_free(name);
        else
            g_hash_table_insert(by_name, name, NULL);
    }
    for (guint i = 0; wanted_modules[i]; i++) {
        char **line = NULL;

        if (!g_hash_table_lookup_extended(by_name, wanted_modules[i], NULL, (gpointer *)&line)) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                        "%s has no module %s (modules.dep, modules.builtin)", moddir,
                        wanted_modules[i]);
            return NULL;
        }
        /* Built in: nothing to load. */
        for (guint j = line ? g_strv_length(line) : 0; j-- > 0;) {
            if (g_hash_table_add(seen, line[j]))
                g_ptr_array_add(files, g_strdup(line[j]));
        }
    }
    return g_steal_pointer(&files);
}

/* Run @argv in @cwd with @input_path on its stdin and its stdout into @out_path.  No GSubprocess:
 * its worker thread would make the g_setenv() that shares the image unsafe. */
static gboolean
run_to_file(const char *const *argv, const char *cwd, const char *input_path,
            const char *out_path, GError **error)
{
    g_autofree char *log_path = g_strdup_printf("%s.log", out_path);
    g_autofree char *log = NULL;
    int in = g_open(input_path ? input_path : "/dev/null", O_RDONLY | O_CLOEXEC, 0);
    int out = g_open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int err = g_open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    gboolean spawned;
    GPid pid = 0;
    int status = 0;

    g_assert_true(in >= 0 && out >= 0 && err >= 0);
    spawned = g_spawn_async_with_pipes_and_fds(cwd, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                               NULL, NULL, in, out, err, NULL, NULL, 0, &pid,
                                               NULL, NULL, NULL, error);
    close(in);
    close(out);
    close(err);
    if (spawned) {
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        g_spawn_close_pid(pid);
    }
    g_file_get_contents(log_path, &log, NULL, NULL);
    g_unlink(log_path);
    if (!spawned)
        return FALSE;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s failed: %s", argv[0],
                    log ? g_strstrip(log) : "");
        return FALSE;
    }
    return TRUE;
}

/* Put module @file (under @moddir) into @root as lib/modules/NAME.ko, uncompressed. */
static char *
install_module(const char *root, const char *moddir, const char *file, const char *busybox,
               GError **error)
{
    g_autofree char *name = module_name(file);
    g_autofree char *source = g_build_filename(moddir, file, NULL);
    char *target = g_strdup_printf("lib/modules/%s.ko", name);
    g_autofree char *path = g_build_filename(root, target, NULL);

    if (g_str_has_suffix(file, ".ko")) {
        if (symlink(source, path) == 0)
            return target;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot link %s: %s",
                    path, g_strerror(errno));
    } else if (g_str_has_suffix(file, ".ko.xz")) {
        const char *argv[] = { busybox, "xzcat", source, NULL };

        if (run_to_file(argv, root, NULL, path, error))
            return target;
    } else {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "module %s is compressed in a way the test cannot undo", source);
    }
    g_free(target);
    return NULL;
}

static gboolean
write_file(const char *root, const char *name, const void *data, gssize len, int mode,
           GError **error)
{
    g_autofree char *path = g_build_filename(root, name, NULL);

    return g_file_set_contents_full(path, data, len, G_FILE_SET_CONTENTS_NONE, mode, error);
}

/* The initramfs tree in @root (busybox and the modules as symlinks, which cpio follows) and
 * the list of its entries, for cpio. */
static gboolean
make_tree(const char *root, const char *moddir, const char *busybox, GString *list,
          GError **error)
{
    static const char *const dirs[] = { "bin", "dev", "proc", "sys", "tmp", "lib", "lib/modules" };
    g_autoptr(GPtrArray) modules = resolve_modules(moddir, error);
    g_autoptr(GString) order = g_string_new(NULL);
    g_autofree char *busybox_link = g_build_filename(root, "bin/busybox", NULL);
    g_autoptr(GBytes) pattern = guest_pattern();

    if (!modules)
        return FALSE;
    g_string_append(list, ".\n");
    for (guint i = 0; i < G_N_ELEMENTS(dirs); i++) {
        g_autofree char *path = g_build_filename(root, dirs[i], NULL);

        g_assert_cmpint(g_mkdir(path, 0755), ==, 0);
        g_string_append_printf(list, "%s\n", dirs[i]);
    }
    g_assert_cmpint(symlink(busybox, busybox_link), ==, 0);
    g_string_append(list, "bin/busybox\n");
    for (guint i = 0; i < modules->len; i++) {
        g_autofree char *entry = install_module(root, moddir, modules->pdata[i], busybox, error);

        if (!entry)
            return FALSE;
        g_string_append_printf(list, "%s\n", entry);
        g_string_append_printf(order, "%s\n", entry + strlen("lib/modules/"));
    }
    g_string_append(list, "init\nmodules\npattern\n");
    return write_file(root, "init", init_script, -1, 0755, error) &&
           write_file(root, "modules", order->str, order->len, 0644, error) &&
           write_file(root, "pattern", g_bytes_get_data(pattern, NULL),
                      g_bytes_get_size(pattern), 0644, error);
}

static GuestImage *
image_new(const char *dir, gboolean owned)
{
    GuestImage *image = g_new0(GuestImage, 1);

    image->dir = g_strdup(dir);
    image->kernel = g_build_filename(dir, "vmlinuz", NULL);
    image->initrd = g_build_filename(dir, "initrd.cpio", NULL);
    image->boot.kernel = image->kernel;
    image->boot.initrd = image->initrd;
    image->boot.cmdline = CMDLINE;
    image->owned = owned;
    return image;
}

static gboolean
copy_file(const char *from, const char *to, GError **error)
{
    g_autoptr(GFile) src = g_file_new_for_path(from);
    g_autoptr(GFile) dst = g_file_new_for_path(to);

    return g_file_copy(src, dst, G_FILE_COPY_NONE, NULL, NULL, NULL, error);
}

static GuestImage *
build(char **why_not, GError **error)
{
    g_autofree char *version = find_kernel_version();
    g_autofree char *busybox = g_find_program_in_path("busybox");
    g_autofree char *cpio = g_find_program_in_path("cpio");
    const char *cpio_argv[] = { cpio, "--create", "--format=newc", "--owner=0:0",
                                "--dereference", "--quiet", NULL };
    g_autofree char *moddir = NULL, *kernel = NULL, *root = NULL, *list_path = NULL;
    g_autoptr(GString) list = g_string_new(NULL);
    g_autoptr(GuestImage) image = NULL;
    g_autofree char *dir = NULL;

    if (!version) {
        *why_not = g_strdup("no kernel for the test guest: install linux-image-amd64 (a "
                            BOOT_DIR "/vmlinuz-VERSION with " MODULES_DIR "/VERSION)");
        return NULL;
    }
    if (!busybox || !is_static_executable(busybox)) {
        *why_not = g_strdup_printf("no static busybox for the test guest: install busybox-static "
                                   "(%s)", busybox ? "the one in PATH is dynamically linked"
                                                   : "none in PATH");
        return NULL;
    }
    if (!cpio) {
        *why_not = g_strdup("no cpio to build the test guest's initramfs: install cpio");
        return NULL;
    }
    dir = g_dir_make_tmp("svc-guest-XXXXXX", error);
    if (!dir)
        return NULL;
    image = image_new(dir, TRUE);
    moddir = g_build_filename(MODULES_DIR, version, NULL);
    kernel = g_strdup_printf(BOOT_DIR "/vmlinuz-%s", version);
    root = g_build_filename(dir, "initramfs", NULL);
    g_assert_cmpint(g_mkdir(root, 0700), ==, 0);
    /* A copy of its own, not a link: libvirt labels the file it boots (owner and xattrs on the
     * link's target), and the host's kernel is shared with every other libvirt and test. */
    if (!copy_file(kernel, image->kernel, error))
        return NULL;
    if (!make_tree(root, moddir, busybox, list, error))
        return NULL;
    list_path = g_build_filename(dir, "initramfs.list", NULL);
    if (!g_file_set_contents(list_path, list->str, list->len, error) ||
        !run_to_file(cpio_argv, root, list_path, image->initrd, error))
        return NULL;
    g_unlink(list_path);
    testvm_remove_tree(root);
    return g_steal_pointer(&image);
}

GuestImage *
guest_image_get(char **why_not, GError **error)
{
    const char *dir = g_getenv(IMAGE_ENV);
    GuestImage *image;

    if (dir)
        return image_new(dir, FALSE);
    image = build(why_not, error);
    if (image)
        g_setenv(IMAGE_ENV, image->dir, TRUE);
    return image;
}

void
guest_image_free(GuestImage *image)
{
    if (!image)
        return;
    if (image->owned)
        testvm_remove_tree(image->dir);
    g_free(image->dir);
    g_free(image->kernel);
    g_free(image->initrd);
    g_free(image);
}
