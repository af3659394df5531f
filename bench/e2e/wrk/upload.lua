-- upload.lua (S3): every request is a 1 MiB POST. wrk adds the Content-Length.
wrk.method = "POST"
wrk.body = string.rep("u", 1024 * 1024)
wrk.headers["Content-Type"] = "application/octet-stream"
