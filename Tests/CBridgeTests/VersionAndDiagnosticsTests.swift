import CBridge
import CSwiftNST
import Foundation
import XCTest

final class VersionAndDiagnosticsTests: XCTestCase {
    func testVersion() {
        XCTAssertEqual(CBridge.nst_abi_version(), NST_ABI_VERSION)
        XCTAssertEqual(String(cString: CBridge.nst_version_string()), "0.1.0")
    }

    func testBLASInfoNamesOpenBLASAndItsCore() {
        let info = String(cString: CBridge.nst_blas_info())
        XCTAssertTrue(info.hasPrefix("OpenBLAS"), info)
        XCTAssertTrue(info.contains("; core "), info)
        XCTAssertEqual(CBridge.nst_blas_info(), CBridge.nst_blas_info(), "one static string per process")
    }

    func testStatusNames() {
        XCTAssertEqual(String(cString: CBridge.nst_status_name(NST_OK)), "NST_OK")
        XCTAssertEqual(String(cString: CBridge.nst_status_name(NST_ERR_SHAPE)), "NST_ERR_SHAPE")
        XCTAssertEqual(String(cString: CBridge.nst_status_name(NST_ERR_INTERNAL)), "NST_ERR_INTERNAL")
        XCTAssertEqual(String(cString: CBridge.nst_status_name(13)), "NST_UNKNOWN_STATUS")
        XCTAssertEqual(String(cString: CBridge.nst_status_name(-1)), "NST_UNKNOWN_STATUS")
        for code in NST_OK...NST_ERR_INTERNAL {
            XCTAssertNotEqual(String(cString: CBridge.nst_status_name(code)), "NST_UNKNOWN_STATUS")
        }
    }

    func testLastErrorIsPerThread() {
        assertStatus(CBridge.nst_gram_matrix(nil, 2, 2, nil, 4), NST_ERR_NULL_POINTER, "nst_gram_matrix", "features is NULL")
        let mine = lastError()
        let done = expectation(description: "other thread")
        Thread.detachNewThread {
            XCTAssertEqual(lastError(), "", "a new thread starts without an error")
            _ = CBridge.nst_model_free(nil)
            var cost = 0.0
            _ = CBridge.nst_content_cost(nil, nil, 1, 1, 1, &cost)
            XCTAssertTrue(lastError().hasPrefix("nst_content_cost"))
            done.fulfill()
        }
        wait(for: [done], timeout: 10)
        XCTAssertEqual(lastError(), mine)
    }
}
