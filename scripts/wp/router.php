<?php
// Router for `php -S`: real files are served as they are, PHP files run, and every other
// path goes to index.php so pretty permalinks and /wp-json/ work as under Apache.
$root = $_SERVER['DOCUMENT_ROOT'];
$path = '/' . ltrim(rawurldecode(parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH) ?? '/'), '/');
$file = $root . $path;

if (strpos($path, '..') === false && file_exists($file)) {
    if (is_dir($file)) {
        if (substr($path, -1) !== '/') {
            header('Location: ' . $path . '/');
            exit;
        }
        if (!file_exists($file . 'index.php')) {
            return false;
        }
        $file .= 'index.php';
    }
    if (substr($file, -4) !== '.php') {
        return false;
    }
    chdir(dirname($file));
    require $file;
    return;
}
chdir($root);
$_SERVER['SCRIPT_NAME'] = '/index.php';
$_SERVER['PHP_SELF'] = '/index.php';
require $root . '/index.php';
