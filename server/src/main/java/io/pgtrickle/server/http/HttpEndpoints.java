package io.pgtrickle.server.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's HTTP side, on the JDK's own server (module jdk.httpserver): three read-only
 * endpoints need no framework.
 *
 * <ul>
 *   <li>{@code GET /metrics}: Prometheus text format</li>
 *   <li>{@code GET /health}: JSON; 200 when the database answers and the catalog is current, else 503</li>
 *   <li>{@code GET /}: an HTML status page</li>
 * </ul>
 */
public final class HttpEndpoints implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HttpEndpoints.class);
    static final String PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final HttpServer server;
    private final ExecutorService executor;

    private HttpEndpoints(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /** @param port 0 picks a free port ({@link #port()} tells which) */
    public static HttpEndpoints start(String bind, int port, StatusSource source) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(bind, port), 0);
        // Two threads: a scrape and a health probe never wait for each other; the work per request is one query.
        ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "pgtrickle-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/metrics", ex -> handle(ex, () -> new Response(200, PROMETHEUS_TYPE, source.prometheus())));
        server.createContext("/health", ex -> handle(ex, () -> {
            StatusSource.Health h = source.health();
            return new Response(h.healthy() ? 200 : 503, "application/json", HealthJson.render(h));
        }));
        server.createContext("/", ex -> handle(ex, () -> {
            if (!ex.getRequestURI().getPath().equals("/")) {
                return new Response(404, "text/plain; charset=utf-8", "not found; try /, /health or /metrics\n");
            }
            return new Response(200, "text/html; charset=utf-8", StatusPage.render(source));
        }));
        server.start();
        return new HttpEndpoints(server, executor);
    }

    public int port() {
        return server.getAddress().getPort();
    }

    record Response(int status, String contentType, String body) {
    }

    @FunctionalInterface
    interface Handler {
        Response respond() throws Exception;
    }

    private static void handle(HttpExchange ex, Handler handler) throws IOException {
        Response r;
        if (!ex.getRequestMethod().equals("GET") && !ex.getRequestMethod().equals("HEAD")) {
            r = new Response(405, "text/plain; charset=utf-8", "only GET\n");
        } else {
            try {
                r = handler.respond();
            } catch (Exception e) {
                log.warn("{} failed: {}", ex.getRequestURI(), e.getMessage());
                r = new Response(503, "text/plain; charset=utf-8", "unavailable: " + e.getMessage() + "\n");
            }
        }
        byte[] body = r.body().getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", r.contentType());
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        boolean head = ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(r.status(), head ? -1 : body.length);
        if (!head) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
        ex.close();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
